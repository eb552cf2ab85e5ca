"""The Celery application. Configuration lives in Django settings under CELERY_*; see settings/base.py."""

import logging
import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientdesk.settings.dev")

logger = logging.getLogger(__name__)

app = Celery("clientdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_filesystem_broker_dirs() -> None:
    """kombu's filesystem transport expects its folders to exist; create them for the embedded default."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
        Path(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _prepare_worker(**_kwargs) -> None:
    ensure_filesystem_broker_dirs()


def enqueue_connection_options() -> dict:
    """How long a request may wait for the broker when it queues a task (settings.ENQUEUE_TIMEOUT seconds)."""
    from django.conf import settings

    timeout = settings.ENQUEUE_TIMEOUT
    return {
        "connect_timeout": timeout,
        "transport_options": {"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0},
    }


def send_after_commit(task, *args, options: dict | None = None, **kwargs) -> None:
    """Queue a Celery task (the task, or its registered name) once the current transaction commits; if the broker
    is down, log and go on. `options` go to `apply_async` (`expires`, `countdown`).

    The database is the truth: whatever the task would do, the next planner run does too, so losing a message
    costs a few minutes, while failing the manager's request would lose their work.
    """
    from django.db import transaction

    if isinstance(task, str):  # by name, for a task whose module the caller may not import
        if task not in app.tasks:
            app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
        task = app.tasks[task]
    name = task.name

    def send() -> None:
        try:
            # One connection attempt, no result subscription, no publish retries: a broker that is down fails this
            # at once instead of holding the request in the transport's and the result backend's retry loops. The
            # socket timeouts bound a broker that accepts the connection but does not answer (hung, paused,
            # half-open): it fails within ENQUEUE_TIMEOUT seconds instead of holding a web worker until it is killed.
            with app.connection_for_write(**enqueue_connection_options()) as connection:
                connection.ensure_connection(max_retries=0)
                sent = dict(args=args, kwargs=kwargs, connection=connection, retry=False, ignore_result=True)
                task.apply_async(**sent, **(options or {}))
        except Exception:  # noqa: BLE001 - any broker failure; the planners catch up
            logger.warning("Could not queue %s; the next planner run will catch up.", name, exc_info=True)

    transaction.on_commit(send, robust=True)
