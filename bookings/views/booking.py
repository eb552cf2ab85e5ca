"""Booking pages: book a visit with the slot picker, the booking card and its actions, the day and week calendars,
today's board, the advisor's arrivals."""

from datetime import date, timedelta
from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from bookings.extensions import card_panels, slot_marks
from bookings.filters import BookingFilter
from bookings.forms import BoardFilterForm, BookingForm, CancelForm, RescheduleForm
from bookings.models import Booking, ServiceType
from bookings.selectors import board as board_selectors
from bookings.selectors import bookings as selectors
from bookings.selectors.recalls import open_recalls_for_vins
from bookings.selectors.slots import free_slots
from bookings.services import bookings as services
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.filters import day_from_query
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from clients.models import Client, ClientPhone


def _next_working_day() -> date:
    today = local_date(timezone.now())
    return BusinessCalendar().next_working_day(today)


_booking_column = partial(model_column, Booking)


class BookingListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """Visits from today on (or as filtered); `?export=csv|xlsx` gives the filtered visits as a file (the head's,
    logged: clients' names and phones are personal data)."""

    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/booking_list.html"
    export_name = "bookings"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        _booking_column("starts_at", local_datetime_text),
        _booking_column("status"),
        Column(gettext_lazy("Client"), "client__name"),
        Column(gettext_lazy("Phone"), "client_phone"),
        Column(gettext_lazy("Car"), "vehicle__plate"),
        Column("VIN", "vehicle__vin"),
        Column(gettext_lazy("Area"), "area__name"),
        Column(gettext_lazy("Advisor"), "advisor_name"),
        _booking_column("source"),
        _booking_column("cancel_reason"),
        _booking_column("dms_id"),
    ]

    def filtered(self, queryset):
        params = self.request.GET.copy()
        if not any(params.get(k) for k in ("day", "starts_after", "starts_before", "client")):
            params["starts_after"] = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        filterset = BookingFilter(params, queryset=queryset)
        return filterset, filterset.qs if filterset.is_valid() else queryset.none()

    def export_queryset(self):
        _filterset, rows = self.filtered(Booking.objects.visible_to(self.request.user))
        phone = ClientPhone.objects.filter(client=OuterRef("client_id"), is_primary=True).values("number")[:1]
        advisor = User.name_expression("advisor")
        return rows.annotate(client_phone=Subquery(phone), advisor_name=advisor).order_by("starts_at", "id")

    def get_context_data(self, **kwargs):
        queryset = selectors.bookings_for_display(Booking.objects.visible_to(self.request.user))
        filterset, rows = self.filtered(queryset)
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="starts_at", ascending=True)
        query = self.request.GET.copy()
        query.pop("after", None)
        vins = [b.vehicle.vin for b in page if b.vehicle_id and b.vehicle.vin]
        return super().get_context_data(
            filter=filterset, page=page, query=query.urlencode(), recalls=open_recalls_for_vins(vins), **kwargs
        )


class BookingCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Book a visit for a client while they are on the line: services, a free slot, the data check, any recall."""

    required_capability = Capability.EDIT_BOOKINGS
    template_name = "bookings/booking_form.html"

    def get_client(self, request) -> Client:
        client = Client.objects.visible_to(request.user).filter(pk=request.GET.get("client") or 0).first()
        if client is None:
            raise Http404(_("Open the booking from a client's card."))
        if client.is_merged:
            return client.merged_into
        return client

    def context(self, request, client, form):
        vins = [v.vin for v in client.vehicles.all() if v.vin]
        return {
            "client": client,
            "form": form,
            "warnings": selectors.client_data_warnings(client),
            "recalls": open_recalls_for_vins(vins),
            "alternatives": getattr(form, "alternatives", []),
        }

    def get(self, request):
        client = self.get_client(request)
        vehicles = list(client.vehicles.all())
        form = BookingForm(
            client=client,
            can_override=request.user.has_capability(Capability.OVERRIDE_CAPACITY),
            initial={"day": _next_working_day(), "vehicle": vehicles[0] if len(vehicles) == 1 else None},
        )
        return render(request, self.template_name, self.context(request, client, form))

    def post(self, request):
        client = self.get_client(request)
        form = BookingForm(
            request.POST, client=client, can_override=request.user.has_capability(Capability.OVERRIDE_CAPACITY)
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.booking_create(
                    by=request.user,
                    client=client,
                    vehicle=data.get("vehicle"),
                    service_types=data["service_types"],
                    planned_minutes=data.get("planned_minutes"),
                    starts_at=data["starts_at"],
                    advisor=data["advisor"],
                    comment=data.get("comment", ""),
                    source=data["source"],
                    capacity_override_reason=data.get("capacity_override_reason", ""),
                    **form.wishes(),
                )
            except (ValidationError, Conflict) as exc:
                form.alternatives = getattr(exc, "alternatives", [])
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Booked: %(client)s, %(when)s.")
                    % {"client": booking.client, "when": local_datetime_text(booking.starts_at)},
                )
                self.saved_once(booking, booking.get_absolute_url())
                return redirect(booking)
        return render(request, self.template_name, self.context(request, client, form), status=400)


class SlotPickerView(CapabilityRequiredMixin, View):
    """The slot picker's free slots for a day and the chosen services (an HTMX fragment)."""

    required_capability = Capability.VIEW_BOOKINGS

    def get(self, request):
        day = day_from_query(request.GET.get("day"), _next_working_day())
        type_ids = [int(v) for v in request.GET.getlist("service_types") if v.isdigit()]
        types = list(ServiceType.objects.filter(pk__in=type_ids).select_related("area"))
        area, minutes = services.plan_for(types)
        try:
            minutes = int(request.GET.get("planned_minutes") or minutes)
        except ValueError:
            pass
        exclude = None
        if booking_id := request.GET.get("booking"):
            exclude = Booking.objects.visible_to(request.user).filter(pk=booking_id).select_related("area").first()
            if exclude is not None and area is None:
                area, minutes = exclude.area, exclude.planned_minutes
        calendar = BusinessCalendar()
        context = {"day": day, "hours": calendar.hours(day), "area": area, "minutes": minutes, "slots": []}
        if area is not None and minutes:
            context["slots"] = free_slots(
                day=day, area=area, planned_minutes=minutes, calendar=calendar, exclude_booking=exclude
            )
            # The wishes ticked on the form (a loaner...): which slots also satisfy each.
            context["marks"] = [
                (mark, mark.keys(context["slots"], planned_minutes=minutes, exclude_booking=exclude))
                for mark in slot_marks
                if request.GET.get(mark.field) in ("on", "1", "true")
            ]
            context["next_day"] = calendar.next_working_day(day)
            if day > local_date(timezone.now()):
                context["previous_day"] = calendar.previous_working_day(day)
        return render(request, "bookings/_slots.html", context)


class BookingDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_BOOKINGS

    def get(self, request, pk):
        try:
            booking = selectors.booking_for_card(pk, user=request.user)
        except Booking.DoesNotExist as exc:
            raise Http404 from exc
        return render(request, "bookings/booking_detail.html", booking_card_context(request, booking))


def booking_card_context(request, booking, *, cancel_form=None, **state) -> dict:
    """The booking card: the booking, its open recalls, the actions the user may take, and the panels other apps
    contribute (`bookings.extensions.card_panels`: the calls app's recent calls)."""
    recalls = open_recalls_for_vins([booking.vehicle.vin]) if booking.vehicle_id and booking.vehicle.vin else {}
    context = {
        "booking": booking,
        "recalls": recalls.get(booking.vehicle.vin, []) if booking.vehicle_id else [],
        "actions": available_actions(request.user, booking),
        "cancel_form": cancel_form or CancelForm(),
        "panels": [],
    }
    for panel in card_panels:
        panel_context = panel.context(request, booking, state)
        if panel_context is not None:
            context.update(panel_context)
            context["panels"].append(panel.template)
    return context


# action name in the URL → (target status, capability needed)
ACTIONS = {
    "confirm": (Booking.Status.CONFIRMED, Capability.EDIT_BOOKINGS),
    "arrived": (Booking.Status.ARRIVED, Capability.EDIT_BOOKINGS),
    "no-show": (Booking.Status.NO_SHOW, Capability.EDIT_BOOKINGS),
    "start": (Booking.Status.IN_SERVICE, Capability.SERVICE_BOOKINGS),
    "complete": (Booking.Status.COMPLETED, Capability.SERVICE_BOOKINGS),
    "cancel": (Booking.Status.CANCELLED, Capability.EDIT_BOOKINGS),
}


def available_actions(user, booking: Booking, *, now=None) -> list[str]:
    """The buttons the user gets for the booking now: the steps the service would take today (an arrival only on the
    visit's day, a no-show once its slot has started) that the user's role may take."""
    allowed = services.allowed_steps(booking, now=now or timezone.now())
    return [
        name for name, (target, capability) in ACTIONS.items() if target in allowed and user.has_capability(capability)
    ]


class BookingActionView(CapabilityRequiredMixin, View):
    """The buttons on the card and the board: confirm, arrived, no-show, start, complete, cancel (with a reason)."""

    required_capability = Capability.VIEW_BOOKINGS

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404
        target, capability = ACTIONS[action]
        if not request.user.has_capability(capability):
            raise PermissionDenied
        booking = get_object_or_404(Booking.objects.visible_to(request.user), pk=pk)
        note = ""
        cancel_form = None
        if action == "cancel":
            cancel_form = CancelForm(request.POST)
            if not cancel_form.is_valid():
                booking = selectors.booking_for_card(pk, user=request.user)
                context = booking_card_context(request, booking, cancel_form=cancel_form)
                return render(request, "bookings/booking_detail.html", context, status=400)
            note = cancel_form.cleaned_data["reason"]
        try:
            services.booking_transition(booking=booking, by=request.user, to=target, note=note)
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
        else:
            messages.success(request, _("%(booking)s: %(status)s.") % {"booking": booking, "status": target.label})
        if request.htmx and request.POST.get("from") == "board":
            return render(request, "bookings/_board_rows.html", board_context(request))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = booking.get_absolute_url()
        return redirect(target)


class BookingRescheduleView(CapabilityRequiredMixin, View):
    required_capability = Capability.EDIT_BOOKINGS
    template_name = "bookings/reschedule.html"

    def get_booking(self, request, pk) -> Booking:
        return get_object_or_404(
            Booking.objects.visible_to(request.user).select_related("client", "vehicle", "area", "advisor"), pk=pk
        )

    def get(self, request, pk):
        booking = self.get_booking(request, pk)
        can_pick = request.user.has_capability(Capability.OVERRIDE_CAPACITY)
        form = RescheduleForm(initial={"day": local_date(booking.starts_at)}, can_pick_time=can_pick)
        return render(request, self.template_name, {"booking": booking, "form": form, "wishes": held_wishes(booking)})

    def post(self, request, pk):
        booking = self.get_booking(request, pk)
        can_pick = request.user.has_capability(Capability.OVERRIDE_CAPACITY)
        form = RescheduleForm(request.POST, can_pick_time=can_pick)
        alternatives = []
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.booking_reschedule(
                    booking=booking,
                    by=request.user,
                    starts_at=data["starts_at"],
                    advisor=data["advisor"],
                    reason=data.get("reason", ""),
                )
            except (ValidationError, Conflict) as exc:
                alternatives = getattr(exc, "alternatives", [])
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Moved to %(time)s.") % {"time": local_datetime_text(data["starts_at"])})
                return redirect(booking)
        context = {"booking": booking, "form": form, "alternatives": alternatives, "wishes": held_wishes(booking)}
        return render(request, self.template_name, context, status=400)


def held_wishes(booking: Booking) -> list:
    """The wishes the booking carries (its loaner), so the picker marks the slots that keep them when it moves."""
    return [mark for mark in slot_marks if mark.held_by is not None and mark.held_by(booking)]


class DayView(CapabilityRequiredMixin, TemplateView):
    """The day's load per area and per advisor; a long day lists an advisor's visits when asked (`?advisor=`, or the
    card opened: an HTMX request for that one list)."""

    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/day.html"

    def get(self, request, *args, **kwargs):
        if request.htmx and (advisor := _int(request.GET.get("advisor"))):
            day = day_from_query(request.GET.get("day"), local_date(timezone.now()))
            visits = selectors.day_visits(day, user=request.user, advisors=[advisor]).get(advisor, [])
            return render(request, "bookings/_day_visits.html", {"visits": visits})
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        day = day_from_query(self.request.GET.get("day"), local_date(timezone.now()))
        opened = frozenset(filter(None, map(_int, self.request.GET.getlist("advisor"))))
        return super().get_context_data(
            plan=selectors.day_plan(day, user=self.request.user, opened=opened),
            previous_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            **kwargs,
        )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class WeekView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/week.html"

    def get_context_data(self, **kwargs):
        day = day_from_query(self.request.GET.get("day"), local_date(timezone.now()))
        monday = day - timedelta(days=day.weekday())
        week = selectors.week_plan(monday, user=self.request.user)
        return super().get_context_data(
            week=week,
            areas=[load.area for load in week[0].areas] if week else [],
            monday=monday,
            previous_week=monday - timedelta(days=7),
            next_week=monday + timedelta(days=7),
            **kwargs,
        )


class BoardView(CapabilityRequiredMixin, TemplateView):
    """Today's arrivals for the front desk: expected, late, arrived, in service; one click marks an arrival. A long day
    is folded (bookings.selectors.board): what the desk acts on now in full, the rest counted, opened with `?show=`."""

    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/board.html"

    def get(self, request, *args, **kwargs):
        # The board polls with the version it shows: when nothing changed, 204 and the page keeps what it has.
        shown = request.GET.get("version")
        if request.htmx and shown:
            day = day_from_query(request.GET.get("day"), local_date(timezone.now()))
            narrowed = _narrowed_to(BoardFilterForm.chosen_in(request.GET))
            if shown == board_selectors.board_version_now(day, user=request.user, now=timezone.now(), **narrowed):
                return HttpResponse(status=204)
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        return ["bookings/_board_rows.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        return super().get_context_data(**board_context(self.request), **kwargs)


def board_context(request) -> dict:
    now = timezone.now()
    day = day_from_query(request.GET.get("day"), local_date(now))
    filter_form = BoardFilterForm(request.GET or None)
    chosen = filter_form.chosen()
    show = frozenset(request.GET.getlist("show")) & board_selectors.FOLDS.keys()
    board = board_selectors.day_board(day, user=request.user, now=now, show=show, **_narrowed_to(chosen))
    can_edit = request.user.has_capability(Capability.EDIT_BOOKINGS)
    # Only a visit still expected can be marked arrived, and the service's rules decide from its status and time, which
    # a day's visits share by the dozen: asked once per (status, time), not once per row.
    steps: dict[tuple, list[str]] = {}
    for row in board.all_rows:
        if can_edit and row.is_open:
            key = (row.status, row.starts_at)
            if key not in steps:
                steps[key] = available_actions(request.user, row, now=now)
            row.actions = steps[key]
    # The filters and the opened folds again on every URL the board calls (its poll, the Arrived button), so it stays
    # as the desk left it; each fold's link opens or closes it.
    filters = list(chosen.items())
    opened = [("show", name) for name in sorted(show)]
    for fold in board.folds:
        fold.link = urlencode([("day", day), *filters, *(("show", name) for name in sorted(show ^ {fold.name}))])
    return {
        "day": day,
        "board": board,
        "rows": board.all_rows,
        "counts": board.counts,
        "version": board.version,
        "filter_form": filter_form,
        "filters": urlencode([*filters, *opened]),
        "arrive_query": "?" + urlencode([("day", day), *filters, *opened]),
        "can_edit": can_edit,
    }


def _narrowed_to(chosen: dict[str, int]) -> dict[str, int]:
    """The board filter's choices (`BoardFilterForm.chosen`) as the board's selectors take them."""
    return {f"{name}_id": pk for name, pk in chosen.items()}


class MyArrivalsView(CapabilityRequiredMixin, TemplateView):
    """The service advisor's page: today's clients booked to them, refreshed without a reload."""

    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/my_arrivals.html"

    def get_template_names(self):
        return ["bookings/_my_arrival_rows.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        now = timezone.now()
        today = local_date(now)
        rows = board_selectors.board_rows(today, user=self.request.user, now=now, advisor_id=self.request.user.pk)
        return super().get_context_data(day=today, rows=rows, **kwargs)


urlpatterns = [
    path("bookings/", BookingListView.as_view(), name="list"),
    path("bookings/new/", BookingCreateView.as_view(), name="create"),
    path("bookings/slots/", SlotPickerView.as_view(), name="slots"),
    path("bookings/<int:pk>/", BookingDetailView.as_view(), name="detail"),
    path("bookings/<int:pk>/reschedule/", BookingRescheduleView.as_view(), name="reschedule"),
    path("bookings/<int:pk>/<slug:action>/", BookingActionView.as_view(), name="action"),
    path("day/", DayView.as_view(), name="day"),
    path("week/", WeekView.as_view(), name="week"),
    path("board/", BoardView.as_view(), name="board"),
    path("my-arrivals/", MyArrivalsView.as_view(), name="my-arrivals"),
]
