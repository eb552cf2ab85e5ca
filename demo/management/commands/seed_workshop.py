"""`manage.py seed_workshop`: a believable workshop set-up for `make run` and for trying the booking pages by hand.

Areas, service types, the Russian public holidays of this year and the next, and a reception slot for every service
advisor (two demo advisors are made if missing). Everything goes through the set-up services, so the demo passes the
same rules and leaves the same history as a set-up typed in by the department head.

Idempotent: what is already there, matched by code, date or user, is left exactly as it is, so a head's later
changes survive a re-run. Run it after `seed_demo`, which loads its clients only into a database without its users.
"""

from dataclasses import dataclass
from datetime import date, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import user_create
from bookings.models import AdvisorProfile, ServiceArea, ServiceType
from bookings.services.setup import advisor_profile_set, calendar_day_set, service_area_create, service_type_create
from clientdesk.calendar import local_date
from clientdesk.models import CalendarDay
from demo.data import DEMO_PASSWORD


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    posts: int
    hours: int

    @property
    def minutes(self) -> int:
        return self.posts * self.hours * 60


# Posts × an eight-hour shift of standard hours: what a mid-size dealer workshop plans with.
AREAS = (
    Area("mechanical", "Слесарный цех", posts=8, hours=8),
    Area("body", "Кузовной цех", posts=4, hours=8),
    Area("tyres", "Шиномонтаж", posts=3, hours=8),
    Area("tinting", "Тонировка", posts=1, hours=8),
)

# (code, name, area code, standard minutes)
SERVICE_TYPES = (
    ("to-1", "ТО-1", "mechanical", 90),
    ("to-2", "ТО-2", "mechanical", 180),
    ("diagnostics", "Диагностика", "mechanical", 60),
    ("computer-diagnostics", "Компьютерная диагностика", "mechanical", 45),
    ("oil-change", "Замена масла и фильтра", "mechanical", 45),
    ("brake-pads", "Замена тормозных колодок", "mechanical", 60),
    ("suspension", "Ремонт подвески", "mechanical", 240),
    ("recall", "Гарантийные работы по отзывной кампании", "mechanical", 120),
    ("tyre-change", "Замена шин", "tyres", 45),
    ("wheel-alignment", "Развал-схождение", "tyres", 60),
    ("body-repair", "Кузовной ремонт", "body", 480),
    ("paint-panel", "Окраска элемента", "body", 240),
    ("tinting", "Тонировка", "tinting", 180),
)

# (month, day, note): the fixed public holidays of the Labour Code, art. 112.
HOLIDAYS = (
    *((1, day, "Новогодние каникулы") for day in (1, 2, 3, 4, 5, 6, 8)),
    (1, 7, "Рождество Христово"),
    (2, 23, "День защитника Отечества"),
    (3, 8, "Международный женский день"),
    (5, 1, "Праздник Весны и Труда"),
    (5, 9, "День Победы"),
    (6, 12, "День России"),
    (11, 4, "День народного единства"),
)
NEW_YEARS_EVE = (12, 31, time(9), time(16), "Предновогодний день")

# Username, first name, last name. `advisor` matches seed_demo's, so either command may make it first.
ADVISORS = (
    ("advisor", "Сергей", "Павлов"),
    ("advisor2", "Дмитрий", "Кузнецов"),
)
SLOT_MINUTES = 30


class Command(BaseCommand):
    help = (
        "Load a demo workshop set-up: areas, service types, this and next year's public holidays, advisors' slots. "
        "Safe to run again: adds only what is missing, changes nothing that exists."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            lines = [self._areas(), self._types(), self._calendar(), self._advisors()]
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Workshop set-up ready."))

    def _areas(self) -> str:
        existing = set(ServiceArea.objects.values_list("code", flat=True))
        made = [
            service_area_create(by=None, name=area.name, code=area.code, daily_capacity_minutes=area.minutes)
            for area in AREAS
            if area.code not in existing
        ]
        return f"Areas: {len(made)} added, {len(AREAS) - len(made)} already there."

    def _types(self) -> str:
        areas = {area.code: area for area in ServiceArea.objects.all()}
        existing = set(ServiceType.objects.values_list("code", flat=True))
        made = 0
        for code, name, area_code, minutes in SERVICE_TYPES:
            if code in existing:
                continue
            service_type_create(by=None, name=name, code=code, area=areas[area_code], standard_minutes=minutes)
            made += 1
        return f"Service types: {made} added, {len(SERVICE_TYPES) - made} already there."

    def _calendar(self) -> str:
        this_year = local_date(timezone.now()).year
        wanted: list[tuple[date, dict]] = []
        for year in (this_year, this_year + 1):
            for month, day, note in HOLIDAYS:
                wanted.append((date(year, month, day), {"kind": CalendarDay.Kind.HOLIDAY, "note": note}))
            month, day, opens, closes, note = NEW_YEARS_EVE
            short = {"kind": CalendarDay.Kind.SHORT, "opens": opens, "closes": closes, "note": note}
            wanted.append((date(year, month, day), short))
        existing = set(CalendarDay.objects.filter(date__in=[day for day, _ in wanted]).values_list("date", flat=True))
        made, skipped = 0, []
        for day, fields in wanted:
            if day in existing:
                continue
            try:
                # A savepoint each, so a day the rules refuse does not undo the rest.
                with transaction.atomic():
                    calendar_day_set(by=None, date=day, replace=False, **fields)
            except ValidationError as exc:
                # A short day on a regular day off, or outside a week the head has changed: leave it to the head.
                skipped.append(f"{day:%d.%m.%Y} ({' '.join(exc.messages)})")
                continue
            made += 1
        line = f"Calendar {this_year}–{this_year + 1}: {made} days added, {len(existing)} already there."
        if skipped:
            line += " Skipped: " + "; ".join(skipped)
        return line

    def _advisors(self) -> str:
        present = set(User.objects.filter(username__in=[u for u, *_ in ADVISORS]).values_list("username", flat=True))
        users_made = [
            user_create(
                by=None,
                username=username,
                role=Role.ADVISOR,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@example.com",
                password=DEMO_PASSWORD,
            )
            for username, first_name, last_name in ADVISORS
            if username not in present
        ]
        without_profile = User.objects.filter(role=Role.ADVISOR, is_active=True).exclude(
            pk__in=AdvisorProfile.objects.values("user_id")
        )
        profiles = [advisor_profile_set(by=None, user=user, slot_minutes=SLOT_MINUTES) for user in without_profile]
        return (
            f"Advisors: {len(users_made)} users added (password {DEMO_PASSWORD}), "
            f"{len(profiles)} given a {SLOT_MINUTES}-minute slot."
        )
