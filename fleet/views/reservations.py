"""A reservation's pages: reserve a loaner for a client, the reservation's card (acts, differences, steps), hand the
car over and take it back with their acts, the acts' photos, and the printed forms (acts, power of attorney, pass,
temporary-use contract)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.errors import Conflict
from clientdesk.pdf import pdf_response, render_pdf
from clientdesk.uploads import file_response
from clientdesk.views import SubmitOnceMixin, apply_validation_error
from clients.models import Client
from fleet import selectors
from fleet.forms import CheckInForm, CheckOutForm, MarkFormSet, ReasonForm, ReservationForm
from fleet.models import DamagePhoto, HandoverAct, Reservation
from fleet.services import acts, reservations
from fleet.services.acts import Mark


def visible_reservation(request, pk) -> Reservation:
    return get_object_or_404(selectors.reservations_for_display(Reservation.objects.visible_to(request.user)), pk=pk)


def chosen_client(request, value) -> Client | None:
    if not str(value or "").isdigit():
        return None
    client = Client.objects.visible_to(request.user).filter(pk=value).select_related("merged_into").first()
    return client.merged_into if client is not None and client.is_merged else client


class ReservationCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Reserve a loaner for a client (opened from the client's card)."""

    required_capability = Capability.USE_FLEET
    template_name = "fleet/reservation_form.html"

    def get_client(self, request) -> Client:
        client = chosen_client(request, request.GET.get("client"))
        if client is None:
            raise Http404(_("Open the reservation from a client's card."))
        return client

    def get(self, request):
        client = self.get_client(request)
        return render(request, self.template_name, {"client": client, "form": ReservationForm()})

    def post(self, request):
        client = self.get_client(request)
        form = ReservationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reservation = reservations.reservation_create(
                    by=request.user,
                    car=data["car"],
                    client=client,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    comment=data["comment"],
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Reserved: %(reservation)s.") % {"reservation": reservation})
                self.saved_once(reservation, reservation.get_absolute_url())
                return redirect(reservation)
        return render(request, self.template_name, {"client": client, "form": form}, status=400)


def reservation_card(request, reservation: Reservation, **forms) -> dict:
    acts_by_direction = {
        act.direction: act for act in reservation.acts.select_related("by").prefetch_related("marks", "photos")
    }
    act_out, act_back = acts_by_direction.get("out"), acts_by_direction.get("back")
    can_use = request.user.has_capability(Capability.USE_FLEET)
    return {
        "reservation": reservation,
        "act_out": act_out,
        "act_back": act_back,
        "differences": acts.differences(act_back, act_out) if act_back and act_out else None,
        "transitions": list(reservation.transitions.select_related("by")),
        "overdue": reservations.is_overdue(reservation, now=timezone.now()),
        "can_use": can_use,
        "contract_needed": acts.contract_needed(reservation),
        "documents": printable(reservation),
        "reason_form": forms.get("reason_form") or ReasonForm(),
    }


class ReservationDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_FLEET

    def get(self, request, pk):
        return render(
            request, "fleet/reservation_detail.html", reservation_card(request, visible_reservation(request, pk))
        )


class ReservationCancelView(CapabilityRequiredMixin, View):
    required_capability = Capability.USE_FLEET

    def post(self, request, pk):
        reservation = visible_reservation(request, pk)
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                reservations.reservation_cancel(
                    reservation=reservation, by=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, Conflict) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
            else:
                messages.success(request, _("The reservation is cancelled."))
                return redirect(reservation)
        reservation = visible_reservation(request, pk)
        return render(
            request,
            "fleet/reservation_detail.html",
            reservation_card(request, reservation, reason_form=form),
            status=400,
        )


class ContractSignedView(CapabilityRequiredMixin, View):
    required_capability = Capability.USE_FLEET

    def post(self, request, pk):
        reservation = visible_reservation(request, pk)
        try:
            acts.reservation_contract_signed(reservation=reservation, by=request.user)
        except Conflict as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The temporary-use contract is signed."))
        return redirect(reservation)


def marks_from(formset) -> list[Mark]:
    return [
        Mark(f.cleaned_data["zone"], f.cleaned_data["kind"], f.cleaned_data.get("note", ""))
        for f in formset.forms
        if f.cleaned_data.get("zone")
    ]


class ActView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Hand the car over (`out`) or take it back (`back`) with its act: mileage, fuel, damage marks and photos, the
    licence (out), a fault or a warning lamp (back), signatures confirmed."""

    required_capability = Capability.USE_FLEET
    direction = "out"
    template_name = "fleet/act_form.html"

    def form_class(self):
        return CheckOutForm if self.direction == "out" else CheckInForm

    def initial(self, reservation):
        car = reservation.car
        initial = {"mileage_km": car.mileage_km, "fuel_percent": car.fuel_percent}
        drive = getattr(reservation, "test_drive", None)
        if self.direction == "out" and drive is not None:
            initial |= {"licence_number": drive.licence_number, "licence_valid_until": drive.licence_valid_until}
        return initial

    def context(self, reservation, form, marks):
        previous = None
        if self.direction == "back":
            previous = reservation.acts.filter(direction=HandoverAct.Direction.OUT).prefetch_related("marks").first()
        return {
            "reservation": reservation,
            "form": form,
            "marks": marks,
            "direction": self.direction,
            "act_out": previous,
        }

    def get(self, request, pk):
        reservation = visible_reservation(request, pk)
        form = self.form_class()(initial=self.initial(reservation))
        return render(request, self.template_name, self.context(reservation, form, MarkFormSet(prefix="marks")))

    def post(self, request, pk):
        reservation = visible_reservation(request, pk)
        form = self.form_class()(request.POST, request.FILES)
        marks = MarkFormSet(request.POST, prefix="marks")
        if form.is_valid() and marks.is_valid():
            data = dict(form.cleaned_data)
            try:
                if self.direction == "out":
                    acts.reservation_check_out(
                        reservation=reservation, by=request.user, marks=marks_from(marks), **data
                    )
                    messages.success(request, _("The car is handed over."))
                else:
                    _act, diff = acts.reservation_check_in(
                        reservation=reservation, by=request.user, marks=marks_from(marks), **data
                    )
                    messages.success(
                        request,
                        _("The car is back: %(km)d km driven, fuel used %(fuel)d %%, new damage: %(new)d.")
                        % {"km": diff.km_driven, "fuel": diff.fuel_used, "new": len(diff.new_marks)},
                    )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                self.saved_once(reservation, reservation.get_absolute_url())
                return redirect(reservation)
        return render(request, self.template_name, self.context(reservation, form, marks), status=400)


class CheckOutView(ActView):
    direction = "out"


class CheckInView(ActView):
    direction = "back"


class PhotoView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_FLEET

    def get(self, request, pk):
        photo = get_object_or_404(
            DamagePhoto.objects.filter(act__reservation__in=Reservation.objects.visible_to(request.user)), pk=pk
        )
        return file_response(photo.file, download_name=photo.original_name or f"photo-{photo.pk}")


# The printed forms: name in the URL → (template, title)
DOCUMENTS = {
    "act-out": "fleet/print/act.html",
    "act-back": "fleet/print/act.html",
    "power-of-attorney": "fleet/print/power_of_attorney.html",
    "pass": "fleet/print/pass.html",
    "contract": "fleet/print/contract.html",
}


def printable(reservation: Reservation) -> list[str]:
    """The forms this reservation can print now."""
    docs = []
    statuses = (Reservation.Status.OUT, Reservation.Status.RETURNED)
    if reservation.status in statuses:
        docs.append("act-out")
    if reservation.status == Reservation.Status.RETURNED:
        docs.append("act-back")
    if reservation.kind == Reservation.Kind.TEST_DRIVE:
        docs += ["power-of-attorney", "pass"]
    if reservation.lasts_over_a_day:
        docs.append("contract")
    return docs


class PrintView(CapabilityRequiredMixin, View):
    """A printed form as a page (`?format=pdf`: the PDF, rendered by clientdesk.pdf)."""

    required_capability = Capability.VIEW_FLEET

    def get(self, request, pk, doc):
        reservation = visible_reservation(request, pk)
        if doc not in DOCUMENTS or doc not in printable(reservation):
            raise Http404
        direction = "back" if doc == "act-back" else "out"
        act = reservation.acts.filter(direction=direction).prefetch_related("marks").select_related("by").first()
        act_out = reservation.acts.filter(direction="out").first() if direction == "back" else None
        context = {
            "reservation": reservation,
            "drive": getattr(reservation, "test_drive", None),
            "act": act,
            "differences": acts.differences(act, act_out) if act and act_out else None,
            "doc": doc,
            "today": timezone.now(),
        }
        if request.GET.get("format") == "pdf":
            pdf = render_pdf(DOCUMENTS[doc], context | {"pdf": True})
            return pdf_response(pdf, f"{doc}-{reservation.pk}.pdf")
        return render(request, DOCUMENTS[doc], context | {"pdf_url": f"{request.path}?format=pdf"})


urlpatterns = [
    path("reservations/new/", ReservationCreateView.as_view(), name="reservation-create"),
    path("reservations/<int:pk>/", ReservationDetailView.as_view(), name="reservation-detail"),
    path("reservations/<int:pk>/cancel/", ReservationCancelView.as_view(), name="reservation-cancel"),
    path("reservations/<int:pk>/contract-signed/", ContractSignedView.as_view(), name="reservation-contract"),
    path("reservations/<int:pk>/check-out/", CheckOutView.as_view(), name="check-out"),
    path("reservations/<int:pk>/check-in/", CheckInView.as_view(), name="check-in"),
    path("reservations/<int:pk>/print/<slug:doc>/", PrintView.as_view(), name="print"),
    path("photos/<int:pk>/", PhotoView.as_view(), name="photo"),
]
