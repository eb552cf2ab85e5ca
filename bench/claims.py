"""The claims' bench case (`seed_large_claims` loads the 30,000 claims it reads), beside its raw-SQL floor: the same
rows fetched by hand-written queries, planned afresh like Django's.

- claim list by due state: the claim list page's rows for one due state (overdue, due within two working days, due
  later), soonest due first, first page of 50 with the client, car, category and manager each row shows, and the
  next page when there is one; the due-soon bound read from the business calendar as the page reads it.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from bench.cases import Bench, Case
from claims.filters import ClaimFilter
from claims.models import Claim
from claims.selectors import DueState, claim_list_rows, due_bounds, shape_list_rows
from clientdesk.calendar import local_date
from clientdesk.views import KeysetPage

PAGE = 50
STATES = [DueState.OVERDUE, DueState.DUE_SOON, DueState.LATER]

CLAIM_ROWS = """
    SELECT cl.id, cl.number, cl.received_at, cl.due_date, cl.status, cl.kind, cl.channel, cl.demand,
           c.id, c.name, v.id, v.make, v.model, v.plate, k.id, k.name, u.id, u.first_name, u.last_name, u.username
    FROM claims_claim cl
    JOIN clients_client c ON c.id = cl.client_id LEFT JOIN clients_vehicle v ON v.id = cl.vehicle_id
    JOIN claims_claimcategory k ON k.id = cl.category_id JOIN accounts_user u ON u.id = cl.assignee_id
    WHERE NOT (cl.status IN ('informed', 'closed')) AND {where} ORDER BY cl.due_date, cl.id LIMIT %(limit)s
"""


def _soon_floor(bench: Bench, today: date) -> date:
    """The second working day after today, from the working week and its exceptions (two queries, as the page)."""
    weekly = {r[0] for r in bench.fetch("SELECT weekday FROM clientdesk_workinghours")}
    exceptions = dict(
        bench.fetch(
            "SELECT date, kind FROM clientdesk_calendarday WHERE date BETWEEN %s AND %s",
            [today, today + timedelta(days=74)],
        )
    )
    day, found = today, 0
    while found < 2:
        day += timedelta(days=1)
        kind = exceptions.get(day)
        if (kind is None and day.weekday() in weekly) or kind in ("short", "working"):
            found += 1
    return day


def claim_list_by_due_state(bench: Bench) -> Case:
    inputs = [STATES[n % len(STATES)] for n in range(bench.sample)]

    def page(state: str, after: str | None = None) -> KeysetPage:
        # As the list page does it: the due-soon bound read once, for the filter and the rows' badges; rows of the
        # columns it prints.
        queryset = claim_list_rows(Claim.objects.visible_to(bench.manager))
        bounds = due_bounds()
        filterset = ClaimFilter({"due_state": state}, queryset=queryset, bounds=bounds)
        if not filterset.is_valid():
            raise AssertionError(filterset.errors)
        rows = KeysetPage(filterset.qs, after=after, time_field="due_date", ascending=True, size=PAGE)
        rows.object_list = shape_list_rows(rows.object_list, bounds)
        return rows

    def app(state: str) -> object:
        first = page(state)
        rows = list(first)
        if first.has_next:
            rows += list(page(state, after=first.next_after))
        return rows

    def floor(state: str) -> object:
        today = local_date(timezone.now())
        soon = _soon_floor(bench, today) if state != DueState.OVERDUE else None
        where = {
            DueState.OVERDUE: "cl.due_date < %(today)s",
            DueState.DUE_SOON: "cl.due_date >= %(today)s AND cl.due_date <= %(soon)s",
            DueState.LATER: "cl.due_date > %(soon)s",
        }[state]
        params = {"today": today, "soon": soon, "limit": PAGE + 1}
        rows = bench.fetch(CLAIM_ROWS.format(where=where), params)
        if len(rows) > PAGE:
            last = rows[PAGE - 1]
            after = f"{where} AND (cl.due_date, cl.id) > (%(day)s, %(id)s)"
            rows = rows[:PAGE] + bench.fetch(CLAIM_ROWS.format(where=after), {**params, "day": last[3], "id": last[0]})
        return rows

    return Case(
        "claims: list by due state",
        inputs,
        app,
        floor,
        "overdue / due within 2 working days / due later, soonest first: the first page of 50 and the next (keyset)",
    )


CASE_BUILDERS: list[Callable[[Bench], Case]] = [claim_list_by_due_state]
