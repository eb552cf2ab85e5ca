"""The dashboards' tiles: each app contributes its own, the `reports` app draws whatever was contributed.

A `Tile` names a function `(user, period) -> TileData`: the figures (with the previous period's value, or the
department's average, beside them) and the charts, every figure and every bar carrying the URL of the list page
behind it with that list's own filter parameters, so a number can be checked row by row. Tiles read with SQL
aggregates only, a constant number of queries each, whatever the number of rows.

`head_tiles` are the department head's (the whole department); `own_tiles` a manager's (her own figures beside the
department's average, never a colleague's); `advisor_tiles` a service advisor's (likewise, beside the advisors').
"""

from collections.abc import Callable, Hashable, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clientdesk.calendar import day_bounds
from clientdesk.filters import EARLIEST, LATEST
from clientdesk.registry import Registry

# --- the period -----------------------------------------------------------------------------------------------------

PERIOD_KINDS = {
    "today": _("Today"),
    "week": _("This week"),
    "month": _("This month"),
    "custom": _("Dates"),
}
MAX_CUSTOM_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local calendar days [first, last], both included, in the dealership's zone; `start`/`end` bound them."""

    kind: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return day_bounds(self.first)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.last)[1]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period just before, to compare with: yesterday, last week, last month, or as many days before."""
        if self.kind == "month":
            last = self.first - timedelta(days=1)
            return Period(self.kind, last.replace(day=1), last)
        return Period(self.kind, self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    @classmethod
    def of(cls, kind: str, today: date, *, first: date | None = None, last: date | None = None) -> "Period":
        """The period of this kind around `today`; for "custom", [first, last] (put in order, a year at most)."""
        if kind == "week":
            monday = today - timedelta(days=today.weekday())
            return cls(kind, monday, monday + timedelta(days=6))
        if kind == "month":
            following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            return cls(kind, today.replace(day=1), following - timedelta(days=1))
        if kind == "custom" and first and last:
            first, last = min(first, last), max(first, last)
            return cls(kind, max(first, last - timedelta(days=MAX_CUSTOM_DAYS - 1)), last)
        return cls("today", today, today)

    @classmethod
    def from_query(cls, query: Mapping, *, today: date) -> "Period":
        """`?period=today|week|month|custom&from=YYYY-MM-DD&to=YYYY-MM-DD`; anything unreadable means today."""

        def day(name):
            try:
                value = date.fromisoformat(query.get(name) or "")
            except ValueError:
                return None
            # Outside the years any record can have (clientdesk.filters) the calendar cannot shift by a period.
            return value if EARLIEST <= value <= LATEST else None

        return cls.of(query.get("period") or "today", today, first=day("from"), last=day("to"))

    def query(self) -> dict[str, str]:
        """What puts this period back in a dashboard's URL."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind}

    def as_json(self) -> dict:
        return {"kind": self.kind, "first": self.first.isoformat(), "last": self.last.isoformat()}


# --- the conditions every tile reads with -----------------------------------------------------------------------------


def within(period: Period, field: str) -> Q:
    """`field` (a moment) falls in the period."""
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def spanning(period: Period, field: str) -> Q:
    """`field` falls in the period or the one before it: what a tile reads once to count both."""
    return Q(**{f"{field}__gte": period.previous().start, f"{field}__lt": period.end})


def both(period: Period, field: str, **counts: Q) -> dict:
    """Conditional counts for this period and the previous one, `{"name": Count, "name_before": Count}`, for one
    `.aggregate(**both(...))` (or `.annotate`) on rows limited by `spanning(period, field)`."""
    previous = period.previous()
    result = {}
    for name, condition in counts.items():
        result[name] = Count("pk", filter=condition & within(period, field))
        result[f"{name}_before"] = Count("pk", filter=condition & within(previous, field))
    return result


# --- what a tile gives ----------------------------------------------------------------------------------------------


def list_url(name: str, *args, **filters) -> str:
    """A list page (or list endpoint) with its FilterSet's parameters; a list value repeats the parameter."""
    url = reverse(name, args=args)
    pairs = [(k, v) for k, value in filters.items() if value is not None for v in _values(value)]
    return f"{url}?{urlencode(pairs)}" if pairs else url


def _values(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return [_text(value)]


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def ratio(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to take a share of."""
    return round(100 * part / whole, 1) if whole else None


UP, DOWN = "up", "down"  # which way a figure gets better ("" for a figure that is neither good nor bad)


@dataclass(frozen=True)
class Figure:
    """One number: this period's, and what it is compared with (the previous period, or the department's average).
    `better` says which way is good: a rise in confirmations is, a rise in overdue calls or no-shows is not."""

    key: str
    label: str
    value: float | int | None
    url: str = ""
    previous: float | int | None = None
    average: float | int | None = None
    unit: str = ""  # "%", "s", "min" or "" for a count
    better: str = UP

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def good(self) -> bool | None:
        """Whether the change since the previous period is for the better (None: no change, or neither way)."""
        change = self.change
        if not change or self.better not in (UP, DOWN):
            return None
        return (change > 0) == (self.better == UP)


@dataclass(frozen=True)
class Series:
    label: str
    data: list  # numbers, None for a gap
    urls: list[str] = field(default_factory=list)  # the list behind each bar or point ("" for none)


@dataclass(frozen=True)
class Chart:
    """A Chart.js chart: `kind` "bar" or "line"; `stacked` stacks the bars; a None value is a gap, never drawn."""

    key: str
    title: str
    kind: str
    labels: list[str]
    series: list[Series]
    stacked: bool = False
    horizontal: bool = False
    unit: str = ""

    @property
    def height(self) -> float:
        """The chart's height in rem: a bar a line for horizontal bars (readable at 1366×768), a fixed box else."""
        return min(22.0, max(8.0, 3 + 1.8 * len(self.labels))) if self.horizontal else 14.0

    @property
    def rows(self) -> list[tuple[str, list[tuple]]]:
        """The chart as a table: each label with (value, url) per series, for the figures under the chart."""
        return [
            (label, [(s.data[i], s.urls[i] if i < len(s.urls) else "") for s in self.series])
            for i, label in enumerate(self.labels)
        ]


@dataclass(frozen=True)
class TileData:
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class Tile:
    """A box on a dashboard. `compute(user, period)` reads the figures; `capability` is what the user needs to see
    it (the page's own capability is checked by the page)."""

    key: str
    title: str
    compute: Callable[..., TileData]
    capability: str | None = None


@dataclass(frozen=True)
class DrawnTile:
    key: str
    title: str
    figures: list[Figure]
    charts: list[Chart]


_drawing: ContextVar[dict | None] = ContextVar("dashboard drawing", default=None)


def shared[T](key: Hashable, read: Callable[[], T]) -> T:
    """What several tiles of one drawing read alike, read once: inside `draw` the first tile that asks for `key` runs
    `read`, the others get its result; outside a drawing (a tile computed alone) `read` simply runs."""
    memo = _drawing.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def draw(registry: Registry[Tile], *, user, period: Period) -> list[DrawnTile]:
    """Every tile of `registry` the user may see, computed for `period`, in the registry's order."""
    drawn = []
    token = _drawing.set({})
    try:
        for tile in registry:
            if tile.capability and not user.has_capability(tile.capability):
                continue
            data = tile.compute(user, period)
            drawn.append(DrawnTile(tile.key, str(tile.title), data.figures, data.charts))
    finally:
        _drawing.reset(token)
    return drawn


def as_json(tiles: list[DrawnTile]) -> list[dict]:
    """The tiles as plain data (lazy texts made strings): for the API and the page's `json_script`."""

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return str(value)

    def figure(f: Figure) -> dict:
        return {**asdict(f), "change": f.change, "good": f.good}

    return [plain({**asdict(replace(tile, figures=[])), "figures": list(map(figure, tile.figures))}) for tile in tiles]


# Faster readers a higher app offers for what a tile reads (reports' daily roll-up of inbound calls): a tile asks for
# `faster("inbound-groups", its_own_reader)` and gets the offered one, with the same signature and the same answer.
readers: Registry[Callable] = Registry("faster readers of tile data")


def faster[F: Callable](key: str, default: F) -> F:
    return dict(zip(readers.keys(), readers, strict=True)).get(key, default)


# The registries the apps fill in their AppConfig.ready() (calls/dashboard.py, bookings/dashboard.py...).
head_tiles: Registry[Tile] = Registry("head dashboard tiles")
own_tiles: Registry[Tile] = Registry("manager's own dashboard tiles")
# A service advisor's own figures (their arrivals and load beside the previous period and the advisors' average), on
# the same page as a manager's: the page draws this registry for an advisor, `own_tiles` for anyone else. A registry
# of its own rather than a role on each tile: the managers' tiles and the advisors' ask capabilities both roles may
# hold, and `draw` stays as it is.
advisor_tiles: Registry[Tile] = Registry("service advisor's own dashboard tiles")
# The sections of the fixed-form reports (the daily department report and the weekly summary, item 2.3 of the head's
# job): the same Tile, of which the report prints the figures only, each beside the previous period's, in `order`.
# Calls, bookings, confirmations, no-shows, follow-ups and CSI come from calls/ and bookings/; claims adds its own
# section when it registers one (`report_sections.register("claims", Tile(...), order=70)`).
report_sections: Registry[Tile] = Registry("fixed-form report sections")
