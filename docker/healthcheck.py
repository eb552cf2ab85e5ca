"""Healthcheck for the web container (slim images have no curl): GET the URL given, healthy on HTTP 200.

    python docker/healthcheck.py http://127.0.0.1:8000/healthz

The request carries a Host header taken from ALLOWED_HOSTS, so Django accepts it whatever hosts the site is
configured for. /healthz is exempt from the HTTPS redirect, so plain HTTP inside the container is fine.
"""

import json
import os
import sys
import urllib.request


def host_header() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")  # ".example.com" allows example.com itself
        if host and "*" not in host:
            return host
    return "localhost"


def main(url: str) -> int:
    if not url.startswith(("http://", "https://")):
        print(f"unhealthy: not an http(s) URL: {url}", file=sys.stderr)
        return 2
    request = urllib.request.Request(url, headers={"Host": host_header()})  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            body = json.load(response)
    except Exception as exc:  # any failure means unhealthy; say why in `docker inspect`
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if body.get("database") != "ok":
        print(f"unhealthy: {url}: {body}", file=sys.stderr)
        return 1
    print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz"))
