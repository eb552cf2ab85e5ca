"""A real HTTP receiver for the webhook tests: a server thread that checks each request's signature, fails the first
`fail_first` requests on purpose (500), and records what it accepted."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, *, secret: str = "", fail_first: int = 0, delay: float = 0.0):
        self.secret = secret
        self.fail_first = fail_first
        self.delay = delay
        self.requests: list[dict] = []  # every request: event id, whether the signature held, the answer given
        self.accepted: list[int] = []  # event ids answered 200, in order
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-ClientDesk-Timestamp"]
                expected = (
                    "v1="
                    + hmac.new(receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                )
                signed = hmac.compare_digest(expected, self.headers["X-ClientDesk-Signature"])
                event_id = int(self.headers["X-ClientDesk-Event-Id"])
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    code = 500 if failing or not signed else 200
                    receiver.requests.append(
                        {"event": event_id, "signed": signed, "code": code, "body": json.loads(body)}
                    )
                    if code == 200:
                        receiver.accepted.append(event_id)
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"try again later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
