"""Many writers at once, for the tests that prove a constraint or a lock decides a race (PostgreSQL, real threads)."""

import threading
from collections.abc import Callable

from django.db import connections


def run_at_once[T](count: int, action: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `action(n)` for n in 0..count-1, each in its own thread, all released together by a barrier. Returns what
    the actions returned (in the order they finished) and whatever they raised; each thread closes its own database
    connections, as a request would."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(action(n))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test, which asserts on it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
