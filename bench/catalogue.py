"""Every case `python -m bench` times, in the order it prints them: the desk's and the workshop's (`bench.cases`),
then each app's own module beside its loader (`seed_large_<app>`)."""

from collections.abc import Callable

from bench import cases, claims, dms, documents, fleet, reports
from bench.cases import Bench, Case

CASE_BUILDERS: list[Callable[[Bench], Case]] = [
    *cases.CASE_BUILDERS,
    *documents.CASE_BUILDERS,
    *fleet.CASE_BUILDERS,
    *claims.CASE_BUILDERS,
    *reports.CASE_BUILDERS,
    *dms.CASE_BUILDERS,
]
