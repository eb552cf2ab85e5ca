"""`manage.py seed_demo`: a small, believable department for `make run` and for trying the pages by hand.

Everything goes through the services, so the demo data passes the same validation and leaves the same history as
data typed in by people. The run is one transaction and idempotent: when the demo users are already there, nothing
new is made (a missing demo user is recreated, but clients are loaded only into a database that had none of them).
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services.users import user_create
from calls.services.calls import call_log
from clients.models import Client, ClientPhone, Vehicle
from clients.services.clients import PhoneInput, client_create, vehicle_create
from demo import data as demo_data
from demo.keys import demo_api_key

CLIENTS = 60
COMPANIES = 6
CALL_DAYS = 30
CALLS = 200

CONTACT_TIMES = ("после 18:00", "в будни до 12:00", "в обед, 13–14", "в выходные", "только WhatsApp", "")
CLIENT_NOTES = ("Постоянный клиент", "Просит не звонить по акциям", "Предпочитает мастера Петрова", "VIP", "")
SECOND_PHONE_COMMENTS = ("жена", "рабочий", "сын", "водитель", "")


class Command(BaseCommand):
    help = "Load a small demo department (users, clients, vehicles, calls). Safe to run again: adds nothing twice."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed; the same seed gives the same data.")

    def handle(self, *args, seed: int, **options):
        rng = random.Random(seed)
        with transaction.atomic():
            already = set(User.objects.filter(username__in=demo_data.DEMO_USERNAMES).values_list("username", flat=True))
            created_users, raw_key = self._users(already)
            if already:
                made = f"; recreated {', '.join(u.username for u in created_users)}" if created_users else ""
                self.stdout.write(f"Demo data is already loaded (found the demo users){made}: nothing else to add.")
                return
            summary = DemoDepartment(rng, users={u.username: u for u in created_users}).load()
        self.stdout.write(self.style.SUCCESS(summary))
        if raw_key:
            username = demo_data.DEMO_INTEGRATION.username
            self.stdout.write(f"API key of the '{username}' user (make run prints it again): {raw_key}")

    def _users(self, already: set[str]) -> tuple[list[User], str | None]:
        created = [
            user_create(
                by=None,
                username=spec.username,
                role=spec.role,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@example.com",
                password=demo_data.DEMO_PASSWORD,
            )
            for spec in demo_data.DEMO_STAFF
            if spec.username not in already
        ]
        raw_key = None
        spec = demo_data.DEMO_INTEGRATION
        if spec.username not in already:
            integration = user_create(
                by=None, username=spec.username, role=spec.role, first_name=spec.first_name, last_name=spec.last_name
            )
            created.append(integration)
            raw_key = demo_api_key()
        return created, raw_key


class DemoDepartment:
    """Clients, vehicles and a month of calls, made through the services by the demo users."""

    def __init__(self, rng: random.Random, *, users: dict[str, User]):
        self.rng = rng
        self.head = users["head"]
        self.managers = [users["manager1"], users["manager2"]]
        self.dms = users["dms"]
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.today = timezone.localtime(self.now, self.zone).date()
        self.used_numbers: set[str] = set()
        self.used_serials: set[int] = set()

    def load(self) -> str:
        clients = self._clients()
        shared = self._likely_duplicates(clients)
        vehicles = self._vehicles(clients)
        calls = self._calls(clients, vehicles)
        recent = sum(1 for v in vehicles if v.delivered_at and v.delivered_at >= self.now - timedelta(days=30))
        return (
            f"Demo department loaded: {len(demo_data.DEMO_USERNAMES)} users, {Client.objects.count()} clients "
            f"({ClientPhone.objects.count()} phones, {shared} numbers shared by two clients), {len(vehicles)} vehicles "
            f"({recent} delivered in the last 30 days), {calls} calls over the last {CALL_DAYS} days."
        )

    # --- clients ---

    def _fresh_number(self) -> str:
        while True:
            number = demo_data.mobile_number(self.rng)
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def _past(self, *, max_days: int, min_days: int = 0) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(min_days, max_days))

    def _client_fields(self, *, company: bool) -> dict:
        rng = self.rng
        source = rng.choices([s.value for s in Client.Source if s != Client.Source.OTHER], weights=(45, 25, 15, 10, 5))[
            0
        ]
        fields: dict = {"kind": Client.Kind.COMPANY if company else Client.Kind.PERSON, "source": source}
        if rng.random() < 0.9:
            fields["consent_personal_data"] = True
            fields["consent_personal_data_at"] = self._past(max_days=900, min_days=40)
            if rng.random() < 0.55:
                fields["consent_marketing"] = True
                fields["consent_marketing_at"] = fields["consent_personal_data_at"] + timedelta(days=rng.randint(0, 30))
        fields["assigned_manager"] = rng.choice([*self.managers, None])
        fields["preferred_contact_time"] = rng.choice(CONTACT_TIMES)
        fields["notes"] = rng.choice(CLIENT_NOTES) if rng.random() < 0.3 else ""
        return fields

    def _create_client(self, name: str, *, company: bool, phones: list[PhoneInput], **extra) -> Client:
        fields = {**self._client_fields(company=company), **extra}
        by = self.rng.choice(self.managers)
        if fields["source"] == Client.Source.DMS:
            fields.setdefault("dms_id", f"AS{self.rng.randrange(10**8):08d}")
            by = self.dms
        if self.rng.random() < 0.4:
            fields["email"] = demo_data.email_for(self.rng, name, self.rng.randint(1, 99))
        return client_create(by=by, name=name, phones=phones, **fields)

    def _phones(self, *, count: int) -> list[PhoneInput]:
        # Typed the way people type them, so normalisation to E.164 does real work.
        phones = [PhoneInput(number=demo_data.spoken_spelling(self.rng, self._fresh_number()))]
        for _ in range(count - 1):
            phones.append(
                PhoneInput(
                    number=demo_data.spoken_spelling(self.rng, self._fresh_number()),
                    kind=self.rng.choice([ClientPhone.Kind.MOBILE, ClientPhone.Kind.WORK, ClientPhone.Kind.HOME]),
                    comment=self.rng.choice(SECOND_PHONE_COMMENTS),
                )
            )
        return phones

    def _clients(self) -> list[Client]:
        clients = []
        for index in range(CLIENTS - 2):  # two more come as deliberate duplicates
            company = index % (CLIENTS // COMPANIES) == 5
            name = demo_data.company_name(self.rng) if company else demo_data.person(self.rng).full_name
            phones = self._phones(count=2 if company or self.rng.random() < 0.3 else 1)
            clients.append(self._create_client(name, company=company, phones=phones))
        return clients

    def _likely_duplicates(self, clients: list[Client]) -> int:
        """Two cards the head's duplicates page should find: the same person entered twice, and a company whose
        second number is its director's own mobile."""
        person = next(c for c in clients if c.kind == Client.Kind.PERSON and c.source != Client.Source.DMS)
        number = person.phones.get(is_primary=True).number
        surname, first, patronymic = person.name.split()
        clients.append(
            self._create_client(
                f"{surname} {first[0]}. {patronymic[0]}.",
                company=False,
                phones=[PhoneInput(number=demo_data.spoken_spelling(self.rng, number))],
                source=Client.Source.CALL,
                notes="Создан при входящем звонке",
            )
        )
        director = next(c for c in reversed(clients[:-1]) if c.kind == Client.Kind.PERSON and c.pk != person.pk)
        director_number = director.phones.get(is_primary=True).number
        clients.append(
            self._create_client(
                f"ООО «{self.rng.choice(demo_data.COMPANY_STEMS)}{self.rng.choice(demo_data.COMPANY_TAILS)}»",
                company=True,
                phones=[
                    PhoneInput(number=demo_data.spoken_spelling(self.rng, self._fresh_number()), kind="work"),
                    PhoneInput(number=director_number, comment="директор"),
                ],
                source=Client.Source.WALK_IN,
            )
        )
        return 2

    # --- vehicles ---

    def _vehicles(self, clients: list[Client]) -> list[Vehicle]:
        vehicles = []
        fleet_sizes = [
            3 if c.kind == Client.Kind.COMPANY else self.rng.choices([0, 1, 2], weights=(10, 70, 20))[0]
            for c in clients
        ]
        recent_left = 6  # cars handed over in the last month, so the 7-day follow-up has work
        for client, size in zip(clients, fleet_sizes, strict=True):
            for _ in range(size):
                delivered_at = None
                if recent_left and self.rng.random() < 0.2:
                    recent_left -= 1
                    delivered_at = self._past(max_days=29, min_days=1)
                elif self.rng.random() < 0.3:
                    delivered_at = self._past(max_days=5 * 365, min_days=30)
                vehicles.append(self._create_vehicle(client, delivered_at))
        return vehicles

    def _create_vehicle(self, owner: Client, delivered_at: datetime | None) -> Vehicle:
        rng = self.rng
        car = demo_data.pick_car(rng)
        if delivered_at is not None:
            year = max(car.first_year, min(car.last_year, delivered_at.year - rng.choice([0, 0, 1])))
        else:
            year = rng.randint(car.first_year, min(car.last_year, self.today.year))
        serial = rng.randrange(10**7)
        while serial in self.used_serials:
            serial = rng.randrange(10**7)
        self.used_serials.add(serial)
        plate = demo_data.plate(rng)
        if delivered_at is not None and delivered_at > self.now - timedelta(days=10):
            plate = ""  # not registered with the traffic police yet
        elif rng.random() < 0.3:
            # Typed in Latin letters, the way half the desk does; the service stores it in Cyrillic.
            plate = plate.translate(str.maketrans("АВЕКМНОРСТУХ", "abekmhopctyx"))
        fields = {
            "vin": demo_data.vin(car, year, serial),
            "plate": plate,
            "make": car.make,
            "model": car.model,
            "year": year,
            "colour": rng.choice(demo_data.COLOURS),
            "mileage": max(5, (self.today.year - year) * rng.randint(8_000, 25_000) + rng.randint(0, 5_000)),
            "delivered_at": delivered_at,
        }
        by = rng.choice(self.managers)
        if owner.source == Client.Source.DMS:
            fields["dms_id"] = f"V{rng.randrange(10**8):08d}"
            by = self.dms
        return vehicle_create(by=by, owner=owner, **fields)

    # --- calls ---

    def _working_days(self) -> list[date]:
        weekdays = settings.CLIENTDESK["WORKING_WEEKDAYS"]
        days = (self.today - timedelta(days=n) for n in range(CALL_DAYS - 1, -1, -1))
        return [d for d in days if d.weekday() in weekdays]

    def _moment(self, day: date) -> datetime | None:
        """A time inside the calling window on `day`, never later than now."""
        opens, closes = (time.fromisoformat(t) for t in settings.CLIENTDESK["CALLING_WINDOW"])
        start = datetime.combine(day, opens, tzinfo=self.zone)
        end = min(datetime.combine(day, closes, tzinfo=self.zone), self.now - timedelta(minutes=1))
        if end <= start:
            return None
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def _calls(self, clients: list[Client], vehicles: list[Vehicle]) -> int:
        rng = self.rng
        days = self._working_days()
        by_owner: dict[int, list[Vehicle]] = {}
        for vehicle in vehicles:
            by_owner.setdefault(vehicle.owner_id, []).append(vehicle)
        logged = 0

        # The 7th-day call after every recent handover, as the department's rules ask.
        for vehicle in vehicles:
            if vehicle.delivered_at is None:
                continue
            day = timezone.localtime(vehicle.delivered_at, self.zone).date() + timedelta(days=7)
            while day.weekday() not in settings.CLIENTDESK["WORKING_WEEKDAYS"]:
                day += timedelta(days=1)
            if day not in days or (started_at := self._moment(day)) is None:
                continue
            outcome = rng.choices(["resolved", "no_answer"], weights=(80, 20))[0]
            self._log(
                direction="out",
                purpose="follow_up",
                outcome=outcome,
                client=vehicle.owner,
                vehicle=vehicle,
                started_at=started_at,
            )
            logged += 1

        while logged < CALLS:
            started_at = self._moment(rng.choice(days))
            if started_at is None:
                continue
            direction, purpose, outcome = demo_data.call_direction_purpose_outcome(rng)
            if purpose == "follow_up":
                purpose = "confirmation"  # follow-ups were logged above, one per handover
            if direction == "in" and rng.random() < 0.08:
                # Someone not in the base yet: only the number is known.
                number = demo_data.spoken_spelling(rng, self._fresh_number())
                self._log(
                    direction=direction,
                    purpose="consultation",
                    outcome=rng.choice(["resolved", "transferred"]),
                    phone_number=number,
                    started_at=started_at,
                )
                logged += 1
                continue
            client = rng.choice(clients)
            if purpose == "campaign" and not client.consent_marketing:
                purpose = "confirmation"  # campaign calls go only to clients who agreed to them
            owned = by_owner.get(client.pk, [])
            vehicle = rng.choice(owned) if owned and purpose in {"booking", "confirmation", "complaint"} else None
            self._log(
                direction=direction,
                purpose=purpose,
                outcome=outcome,
                client=client,
                vehicle=vehicle,
                started_at=started_at,
            )
            logged += 1
        return logged

    def _log(self, *, direction: str, purpose: str, outcome: str, started_at: datetime, **fields) -> None:
        rng = self.rng
        manager = rng.choices([*self.managers, self.head], weights=(45, 45, 10))[0]
        notes = rng.choice(demo_data.CALL_NOTES[purpose]) if rng.random() < 0.5 else ""
        call_log(
            by=manager,
            direction=direction,
            purpose=purpose,
            outcome=outcome,
            started_at=started_at,
            duration=demo_data.call_duration(rng, outcome),
            notes=notes,
            **fields,
        )
