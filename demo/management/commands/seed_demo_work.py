"""`manage.py seed_demo_work`: the demo department at work, so every page of `make run` has something to show.

Over the clients, cars and workshop that `seed_demo` and `seed_workshop` made:
- visits of the last two weeks (completed, a no-show, a cancellation), today's (arrived, in service, one late,
  some still expected) and those of the next two weeks (some confirmed already);
- the handovers of the cars `seed_demo` marks as delivered, the follow-up survey in use and the answers of the last
  year's buyers, so the CSI report has months to show;
- an open recall campaign whose VINs include cars booked in the coming days, so the warning shows;
- a running marketing campaign to the consenting clients who have not been to the workshop for six months;
- then the planners' run, so the managers' queues hold tomorrow's confirmations, the follow-ups whose day has come
  and today's campaign calls.

What is still to come is booked through the services, which refuse a time that has passed; the visits before now
are written as the services would have left them, each with its trail of transitions. The run is one transaction,
and only into a database with no bookings yet, so running it again adds nothing.
"""

import random
from datetime import date, datetime, time, timedelta
from itertools import takewhile

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from bookings.models import AdvisorProfile, Booking, BookingTransition, ServiceType
from bookings.selectors.slots import free_slots
from bookings.services.bookings import SlotUnavailable, booking_confirm, booking_create
from bookings.services.recalls import recall_campaign_create, recall_vins_import
from calls.models import Survey, SurveyQuestion, SurveyResponse
from calls.services.campaigns import campaign_create, campaign_launch
from calls.services.planning import run_planners
from calls.services.surveys import QuestionInput, survey_activate, survey_create, survey_record
from clientdesk.calendar import BusinessCalendar, at, local_date
from clients.models import Client, Vehicle
from clients.services.deliveries import delivery_record

PAST_DAYS = 14
FUTURE_DAYS = 14
VISITS_A_DAY = 6
S = Booking.Status

# The common reasons a workshop visit is booked, by service code (seed_workshop's), most frequent first.
VISIT_MIXES = (
    ("to-1",),
    ("to-2",),
    ("oil-change",),
    ("diagnostics",),
    ("tyre-change",),
    ("brake-pads",),
    ("to-1", "wheel-alignment"),
    ("computer-diagnostics",),
    ("suspension",),
    ("paint-panel",),
    ("tinting",),
)
COMMENTS = ("", "", "", "Стук справа спереди", "Горит Check Engine", "Клиент ждёт в зоне отдыха", "Нужен подменный")
CANCEL_REASONS = ("Клиент уехал в командировку", "Сделал ТО у другого дилера", "Перенесёт сам, перезвонит")
SURVEY_REMARKS = ("Долго ждал выдачи", "Не показали, как подключить телефон", "Машину выдали грязной")
SALES_MANAGERS = ("Андрей Волков", "Екатерина Смирнова", "Игорь Белов")

SURVEY = (
    "Звонок через 7 дней после выдачи",
    (
        QuestionInput("Насколько вы довольны тем, как вам выдали автомобиль?"),
        QuestionInput("Рассказали ли вам о функциях автомобиля и гарантии?", kind=SurveyQuestion.Kind.YES_NO),
        QuestionInput("Насколько вероятно, что вы порекомендуете нас друзьям?", kind=SurveyQuestion.Kind.SCALE_10),
        QuestionInput("Что нам стоит улучшить?", kind=SurveyQuestion.Kind.TEXT, counts_for_csi=False),
    ),
)
RECALL = {
    "name": "Замена газогенератора подушки безопасности водителя",
    "manufacturer_code": "RC-2026-017",
    "description": "Проверка партии газогенераторов, при необходимости замена. Работы бесплатно, 1,5–2 часа.",
}
CAMPAIGN = {
    "name": "Зимний сервис: аккумулятор и антифриз",
    "script": (
        "Здравствуйте! Это сервисный центр. Готовим машины к зиме: за 30 минут бесплатно проверим аккумулятор и "
        "антифриз. Когда вам удобно заехать?"
    ),
    "segment": {"months_since_visit": 6},
}


class Command(BaseCommand):
    help = (
        "Load the demo department's work over seed_demo's clients and seed_workshop's set-up: bookings past and "
        "coming, handovers, a recall, a campaign, the survey, and the call queues. Adds nothing if bookings exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed; the same seed gives the same data.")

    def handle(self, *args, seed: int, **options):
        if Booking.objects.exists():
            self.stdout.write("The workshop already has bookings: no demo work added.")
            return
        try:
            head = User.objects.get(username="head", role=Role.HEAD)
            managers = list(User.objects.filter(username__in=["manager1", "manager2"]).order_by("username"))
            dms = User.objects.get(username="dms")
        except User.DoesNotExist:
            raise CommandError("Run `manage.py seed_demo` first: the demo users are missing.") from None
        advisors = [p.user for p in AdvisorProfile.objects.filter(is_active=True).select_related("user")]
        if not advisors or not ServiceType.objects.exists() or not managers:
            raise CommandError("Run `manage.py seed_workshop` first: no advisors or service types yet.")
        with transaction.atomic():
            work = DemoWork(random.Random(seed), head=head, managers=managers, dms=dms, advisors=advisors)
            summary = work.load()
        self.stdout.write(self.style.SUCCESS(summary))


class DemoWork:
    def __init__(self, rng: random.Random, *, head: User, managers: list[User], dms: User, advisors: list[User]):
        self.rng = rng
        self.head, self.managers, self.dms, self.advisors = head, managers, dms, advisors
        self.now = timezone.now()
        self.today = local_date(self.now)
        self.calendar = BusinessCalendar()
        self.types = {t.code: t for t in ServiceType.objects.select_related("area")}
        self.slot = {p.user_id: p.slot_minutes for p in AdvisorProfile.objects.all()}
        cars = Vehicle.objects.filter(owner__merged_into__isnull=True).select_related("owner").order_by("pk")
        self.cars = [car for car in cars if car.owner.consent_personal_data]
        self.counts = {"past": 0, "today": 0, "coming": 0}

    def load(self) -> str:
        survey = self._survey()
        handovers, answered = self._handovers(survey)
        self._past_visits()
        self._today()
        coming = self._coming_visits()
        recall_vins = self._recall(coming)
        members = self._campaign()
        planned = run_planners(now=self.now)
        return (
            f"Demo work loaded: visits {self.counts['past']} past, {self.counts['today']} today, "
            f"{self.counts['coming']} coming; {handovers} handovers, {answered} surveys answered; survey "
            f"«{survey.name}» in use; recall with {recall_vins} VINs; campaign of {members} clients; the planners made "
            f"{planned.created} call tasks."
        )

    # --- the follow-up survey and the handovers it is asked about ---

    def _survey(self) -> Survey:
        name, questions = SURVEY
        survey = survey_create(by=self.head, name=name, questions=questions)
        return survey_activate(survey=survey, by=self.head)

    def _handovers(self, survey: Survey) -> tuple[int, int]:
        """The handovers, and the survey answered on the follow-up call of those of the last year whose call is
        long past (the recent ones are for the planner to put in the queue)."""
        delivered = [car for car in self.cars if car.delivered_at and car.delivered_at <= self.now]
        answered = 0
        for number, car in enumerate(delivered, start=1):
            delivery = delivery_record(
                by=self.dms,
                client=car.owner,
                vehicle=car,
                delivered_at=car.delivered_at,
                sales_manager=self.rng.choice(SALES_MANAGERS),
                dms_id=f"SD-{car.delivered_at:%Y%m}-{number:04d}",
            )
            if self.now - timedelta(days=365) < car.delivered_at < self.now - timedelta(days=30):
                self._answer(survey, delivery)
                answered += 1
        return len(delivered), answered

    def _answer(self, survey: Survey, delivery) -> None:
        pleased = self.rng.random() < 0.8
        answers = {}
        for question in survey.questions.all():
            if question.kind == SurveyQuestion.Kind.SCALE_5:
                answers[question.pk] = self.rng.choice([4, 5, 5] if pleased else [2, 3, 4])
            elif question.kind == SurveyQuestion.Kind.SCALE_10:
                answers[question.pk] = self.rng.choice([8, 9, 10, 10] if pleased else [4, 6, 7])
            elif question.kind == SurveyQuestion.Kind.YES_NO:
                answers[question.pk] = "yes" if pleased or self.rng.random() < 0.5 else "no"
            else:
                answers[question.pk] = "" if pleased else self.rng.choice(SURVEY_REMARKS)
        response = survey_record(delivery=delivery, by=self.rng.choice(self.managers), answers=answers, survey=survey)
        called = delivery.delivered_at + timedelta(days=7, hours=self.rng.randint(1, 9))
        SurveyResponse.objects.filter(pk=response.pk).update(answered_at=called)

    # --- visits ---

    def _visit(self) -> tuple[Vehicle, list[ServiceType]]:
        car = self.rng.choice(self.cars)
        mix = self.rng.choice(VISIT_MIXES)
        return car, [self.types[code] for code in mix if code in self.types]

    def _day_times(self, day: date) -> list[tuple[User, datetime]]:
        """Reception times of a past day, each advisor's a slot or more apart (their slots never overlap)."""
        hours = self.calendar.hours(day)
        times = []
        for advisor in self.advisors:
            step = timedelta(minutes=self.slot[advisor.pk])
            moment = hours.start + step * self.rng.randint(0, 2)
            while moment + step <= hours.end - timedelta(hours=3):
                times.append((advisor, moment))
                moment += step * self.rng.randint(2, 6)
        self.rng.shuffle(times)
        return times[:VISITS_A_DAY]

    def _written(self, advisor: User, starts_at: datetime, steps: list[tuple[str, datetime, str]]) -> Booking:
        """A visit before now, as the services would have left it: booked two to ten days ahead, then each step that
        has happened by now."""
        steps = list(takewhile(lambda step: step[1] <= self.now, steps))
        car, types = self._visit()
        booked_at = starts_at - timedelta(days=self.rng.randint(2, 10), hours=self.rng.randint(0, 6))
        if steps:
            booked_at = min(booked_at, steps[0][1] - timedelta(hours=2))
        by = self.rng.choice(self.managers)
        area = types[0].area
        booking = Booking.objects.create(
            client=car.owner,
            vehicle=car,
            area=area,
            advisor=advisor,
            starts_at=starts_at,
            advisor_until=starts_at + timedelta(minutes=self.slot[advisor.pk]),
            planned_minutes=sum(t.standard_minutes for t in types),
            comment=self.rng.choice(COMMENTS),
            source=self.rng.choice([Booking.Source.CALL, Booking.Source.CALL, Booking.Source.DMS]),
            created_by=by,
        )
        booking.service_types.set(types)
        trail = [BookingTransition(booking=booking, to_status=S.SCHEDULED, by=by, new_starts_at=starts_at)]
        previous = S.SCHEDULED
        for status, moment, note in steps:
            trail.append(BookingTransition(booking=booking, from_status=previous, to_status=status, by=by, note=note))
            previous = status
            booking.take_status(status, at=moment, note=note)
        booking.save()
        made = BookingTransition.objects.bulk_create(trail)
        for transition, moment in zip(made, [booked_at, *(moment for _s, moment, _n in steps)], strict=True):
            BookingTransition.objects.filter(pk=transition.pk).update(at=moment)
        Booking.objects.filter(pk=booking.pk).update(created_at=booked_at)
        return booking

    def _steps(self, starts_at: datetime, *, to: str) -> list[tuple[str, datetime, str]]:
        # Confirmed on the call of the working day before, inside the calling window.
        call_day = self.calendar.previous_working_day(local_date(starts_at))
        confirmed = (S.CONFIRMED, at(call_day, time(10)) + timedelta(minutes=self.rng.randint(0, 9 * 60)), "")
        arrived = (S.ARRIVED, starts_at + timedelta(minutes=self.rng.randint(-10, 12)), "")
        in_service = (S.IN_SERVICE, arrived[1] + timedelta(minutes=self.rng.randint(5, 20)), "")
        if to == S.CANCELLED:
            return [(S.CANCELLED, starts_at - timedelta(days=1), self.rng.choice(CANCEL_REASONS))]
        if to == S.NO_SHOW:
            return [confirmed, (S.NO_SHOW, starts_at + timedelta(hours=1), "")]
        if to == S.SCHEDULED:
            return []
        steps = [confirmed, arrived, in_service]
        if to == S.COMPLETED:
            steps.append((S.COMPLETED, in_service[1] + timedelta(hours=self.rng.randint(1, 5)), ""))
        return steps[: [S.CONFIRMED, S.ARRIVED, S.IN_SERVICE, S.COMPLETED].index(to) + 1]

    def _past_visits(self) -> None:
        day = self.today - timedelta(days=PAST_DAYS)
        while day < self.today:
            if self.calendar.is_working_day(day):
                for advisor, starts_at in self._day_times(day):
                    outcome = self.rng.choices([S.COMPLETED, S.NO_SHOW, S.CANCELLED], weights=(85, 7, 8))[0]
                    self._written(advisor, starts_at, self._steps(starts_at, to=outcome))
                    self.counts["past"] += 1
            day += timedelta(days=1)

    def _today(self) -> None:
        """Those already due are on the board as they went (arrived, in service, one late); the rest are booked."""
        if not self.calendar.is_working_day(self.today):
            return
        for advisor, starts_at in self._day_times(self.today):
            if starts_at < self.now - timedelta(minutes=20):
                late = starts_at > self.now - timedelta(hours=1)
                outcome = S.CONFIRMED if late else self.rng.choice([S.ARRIVED, S.IN_SERVICE, S.COMPLETED])
                self._written(advisor, starts_at, self._steps(starts_at, to=outcome))
                self.counts["today"] += 1
        self.counts["today"] += len(self._book_day(self.today, VISITS_A_DAY // 2))

    def _book_day(self, day: date, visits: int) -> list[Booking]:
        made = []
        for _ in range(visits * 2):
            if len(made) == visits:
                break
            car, types = self._visit()
            minutes = sum(t.standard_minutes for t in types)
            slots = free_slots(day=day, area=types[0].area, planned_minutes=minutes, not_before=self.now)
            if not slots:
                continue
            slot = self.rng.choice(slots[: max(1, len(slots) // 2)])
            advisor = next(a for a in self.advisors if a.pk == slot.advisor_id)
            try:
                booking = booking_create(
                    by=self.rng.choice(self.managers),
                    client=car.owner,
                    vehicle=car,
                    starts_at=slot.starts_at,
                    advisor=advisor,
                    service_types=types,
                    comment=self.rng.choice(COMMENTS),
                )
            except SlotUnavailable:
                continue
            made.append(booking)
        return made

    def _coming_visits(self) -> list[Booking]:
        coming: list[Booking] = []
        day = self.today + timedelta(days=1)
        while day <= self.today + timedelta(days=FUTURE_DAYS):
            if self.calendar.is_working_day(day):
                booked = self._book_day(day, VISITS_A_DAY - (day - self.today).days // 3)
                # The client who called in to say they are coming, days ahead: confirmed without a call.
                for booking in booked[: len(booked) // 4]:
                    if day > self.calendar.next_working_day(self.today):
                        booking_confirm(booking=booking, by=self.rng.choice(self.managers), note="Клиент сам позвонил")
                coming += booked
            day += timedelta(days=1)
        self.counts["coming"] = len(coming)
        return coming

    # --- the recall and the campaign ---

    def _recall(self, coming: list[Booking]) -> int:
        campaign = recall_campaign_create(
            by=self.head,
            starts_on=self.today - timedelta(days=45),
            ends_on=self.today + timedelta(days=180),
            **RECALL,
        )
        booked = [b.vehicle.vin for b in coming[:12:3] if b.vehicle and b.vehicle.vin]
        others = [car.vin for car in self.rng.sample(self.cars, min(8, len(self.cars))) if car.vin]
        return recall_vins_import(campaign=campaign, vins=list(dict.fromkeys(booked + others)), by=self.head)

    def _campaign(self) -> int:
        first = self.today if self.calendar.is_working_day(self.today) else self.calendar.next_working_day(self.today)
        campaign = campaign_create(by=self.head, starts_on=first, ends_on=first + timedelta(days=13), **CAMPAIGN)
        if not Client.objects.filter(consent_marketing=True).exists():
            return 0
        return campaign_launch(campaign=campaign, by=self.head, now=self.now).members_added
