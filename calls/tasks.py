"""Celery tasks of the call department: thin wrappers that take ids, call a service and are safe to run twice."""

from celery import shared_task

from calls.services.calls import release_stale_claims as release
from calls.services.campaigns import campaigns_finish_complete
from calls.services.planning import planning_request_taken, run_planners


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def plan_calls() -> dict:
    """Beat runs this every few minutes (CALL_PLANNING_SECONDS); a booking made late for tomorrow triggers it too."""
    planning_request_taken()
    run = run_planners()
    return {"created": run.created, "assigned": run.assigned}


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def release_stale_claims() -> int:
    return release()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def finish_campaigns() -> int:
    """Mark running campaigns finished once all their calls are made."""
    return campaigns_finish_complete()
