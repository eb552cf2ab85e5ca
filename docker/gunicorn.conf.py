"""gunicorn settings for the web container; every value can be overridden from the environment."""

import os

# Listen on all interfaces inside the container; docker-compose.yml decides what the host exposes.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Threads: a sign-in spends ~0.5 s of one core in the password hash (deliberately), and hashlib releases the GIL
# while it hashes, so a process with threads keeps answering other requests meanwhile, where a sync worker is shut
# for the whole hash. Throughput of a sign-in storm is set by the cores either way (README, "Production shape";
# scripts/signin-storm measures it). WEB_CONCURRENCY is also gunicorn's own variable: one process per core, two for
# the smallest host.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
# The heartbeat file on tmpfs: the container's overlay filesystem can stall and get healthy workers killed.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - a private tmpfs in the container, gunicorn's advice for Docker
# X-Forwarded-Proto/-For count only from the proxies the app trusts too (TRUSTED_PROXIES; empty: none, not gunicorn's
# default of localhost).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
