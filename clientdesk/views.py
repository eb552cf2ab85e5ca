"""Shared view pieces: a form view that hands the cleaned form to a service, the home page, health."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability

from .errors import Conflict
from .models import Heartbeat


def apply_validation_error(form, exc: ValidationError | Conflict) -> None:
    """Show a service's refusal on the form: field errors beside their fields, the rest at the top."""
    if isinstance(exc, Conflict):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, str(exc.message))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields and field != NON_FIELD_ERRORS else None, errors)
    else:
        form.add_error(None, exc)


class ServiceFormView(FormView):
    """A form page whose valid form goes to one service call, `perform(form)`.

    A ValidationError or Conflict from the service lands on the form as field errors (status 400); nothing is saved,
    because services are transactional.
    """

    def form_valid(self, form):
        try:
            return self.perform(form)
        except (ValidationError, Conflict) as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def perform(self, form):  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class HomeView(CapabilityRequiredMixin, View):
    """The desk: everyone who uses pages starts at the client search."""

    def get(self, request):
        if request.user.has_capability(Capability.VIEW_CLIENTS):
            return redirect("clients:search")
        return redirect("accounts:password-change")


def health(request):
    """For load balancers and docker-compose: the database answers; when did beat last run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    return JsonResponse({"database": "ok", "last_beat": beat.isoformat() if beat else None})


class KeysetPage:
    """One page of a list ordered by descending id, addressed by the last id seen (no COUNT, no OFFSET)."""

    def __init__(self, queryset, *, after: str | None, size: int = 50):
        try:
            after_id = int(after) if after else None
        except ValueError:
            after_id = None
        if after_id is not None:
            queryset = queryset.filter(pk__lt=after_id)
        rows = list(queryset.order_by("-pk")[: size + 1])
        self.object_list = rows[:size]
        self.has_next = len(rows) > size
        self.next_after = self.object_list[-1].pk if self.has_next else None
        self.is_first = after_id is None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)
