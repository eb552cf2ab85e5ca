"""What the fleet adds to the pages of the apps below it: the loaner on the booking card and on the client card, the
"needs a loaner" mark on the workshop's slot picker (registered in `fleet.apps`)."""

from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clients.models import Client
from fleet import selectors
from fleet.models import Reservation

LOANER_LABEL = _("Needs a loaner")


def booking_loaner_panel(request, booking, state) -> dict | None:
    """The booking card's loaner: the car, its times and state, a link to its reservation (one query)."""
    if not request.user.has_capability(Capability.VIEW_FLEET):
        return None
    return {"loaner": selectors.booking_loaner(booking, user=request.user)}


def client_loaner_panel(request, client, state) -> dict | None:
    """The client card's block for our cars: it loads itself (no query on the card, whose count stays pinned)."""
    return {} if request.user.has_capability(Capability.VIEW_FLEET) else None


class ClientLoanersView(CapabilityRequiredMixin, View):
    """The client card's block: the cars held for the client now or coming, and the buttons to reserve a loaner or
    book a test drive (an HTMX fragment, one query)."""

    required_capability = Capability.VIEW_FLEET

    def get(self, request, pk):
        client = get_object_or_404(Client.objects.visible_to(request.user), pk=pk)
        context = {
            "client": client,
            "fleet_loaners": selectors.client_loaners(client, request.user),
            "fleet_can_use": request.user.has_capability(Capability.USE_FLEET),
        }
        return render(request, "fleet/_client_loaners_rows.html", context)


urlpatterns = [
    path("clients/<int:pk>/loaners/", ClientLoanersView.as_view(), name="client-loaners"),
]


def loaner_slot_keys(slots, *, planned_minutes: int, exclude_booking=None) -> set[str]:
    return selectors.free_loaner_slot_keys(slots, planned_minutes=planned_minutes, exclude_booking=exclude_booking)


def booking_has_loaner(booking) -> bool:
    """Whether a workshop visit holds a loaner not handed over yet (the reschedule page's picker then marks slots)."""
    return Reservation.objects.filter(booking=booking, status=Reservation.Status.RESERVED).exists()
