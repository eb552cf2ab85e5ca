"""Shared view pieces: a form view that hands the cleaned form to a service, forms submitted once, URLs for long
lists, the home page, health."""

from datetime import datetime
from functools import partial
from uuid import UUID

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView
from django_htmx.http import HttpResponseClientRedirect

from clientdesk.errors import Conflict
from clientdesk.filters import check_date_range
from clientdesk.forms import FORM_TOKEN_FIELD
from clientdesk.models import FormToken, Heartbeat


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


def url_maker(name: str, *args):
    """`reverse` once for a whole list: a function from a row's pk to its URL (a page of 1,500 rows would otherwise
    resolve the URL 1,500 times)."""
    marker = 987654321
    return reverse(name, args=[marker, *args]).replace(str(marker), "{}").format


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


def posted_form_token(request) -> UUID | None:
    """The one-time token a POSTed form carries, or None (an old page, the API, a mangled value)."""
    try:
        return UUID(request.POST.get(FORM_TOKEN_FIELD, ""))
    except ValueError:
        return None


class SubmitOnceMixin:
    """A form that saves at most once per rendering (issue: saved, then 500).

    The page renders a fresh token in the form (`{% load form_token %}{% form_token %}`). The POST claims it by
    inserting a FormToken row, then runs the view, all in one transaction: when the view saved something it calls
    `self.saved_once(obj, url)` and the row keeps where it went; when it saved nothing (a form error) the claim is
    dropped, so the corrected form may use the token again. A second POST with a spent token (a retry after a blip
    that lost the first answer, a double click) saves nothing and goes to what the first one saved, with a message.
    Two POSTs racing with one token meet at the unique index: the second waits for the first to commit, then takes
    the same way. A failure after the claim rolls it back with everything else, so the retry saves.

    Put it after the capability mixin, so only a permitted request claims a token. A POST without a token is served
    as before.
    """

    def dispatch(self, request, *args, **kwargs):
        token = posted_form_token(request) if request.method == "POST" else None
        if token is None:
            return super().dispatch(request, *args, **kwargs)
        spent = FormToken.objects.filter(token=token).first()
        if spent is not None:
            return self.already_saved(request, spent)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = FormToken.objects.create(token=token, user=request.user)
            except IntegrityError:
                # Another request with this token committed while this one waited on the unique index.
                return self.already_saved(request, FormToken.objects.get(token=token))
            self._saved_once = None
            response = super().dispatch(request, *args, **kwargs)
            if self._saved_once is None:
                claim.delete()
            else:
                obj, claim.url = self._saved_once
                claim.content_type = ContentType.objects.get_for_model(obj)
                claim.object_id = obj.pk
                claim.save(update_fields=["url", "content_type", "object_id"])
        return response

    def saved_once(self, obj: Model, url: str) -> None:
        """The view saved `obj`; a repeat of this submission goes to `url`."""
        self._saved_once = (obj, url)

    def already_saved(self, request, spent: FormToken):
        messages.info(request, _("This form was already sent and saved; here is what it saved."))
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(spent.url)
        return redirect(spent.url)


def health(request):
    """For load balancers and docker-compose: the database answers; when did beat last run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    return JsonResponse({"database": "ok", "last_beat": beat.isoformat() if beat else None})


class ListRow(dict):
    """A row of a list shaped for display (a `values()` dict with its labels added): its columns by key, as templates
    read them, or as attributes (`row.pk`), as code reads a model."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class KeysetPage:
    """One page of a list in (time, id) or id order, newest first unless `ascending`, addressed by the last row
    seen: no COUNT, no OFFSET, the same cost on page 1 and page 10,000.

    `time_field` names the timestamp to order by (served by an index on (time_field DESC, id DESC)); without it the
    list is ordered by id.
    """

    def __init__(
        self, queryset, *, after: str | None, size: int = 50, time_field: str | None = None, ascending: bool = False
    ):
        self.time_field = time_field
        self.ascending = ascending
        position = self._parse(after)
        if position is not None:
            queryset = self._after(queryset, position)
        sign = "" if ascending else "-"
        ordering = [f"{sign}{time_field}", f"{sign}pk"] if time_field else [f"{sign}pk"]
        rows = list(queryset.order_by(*ordering)[: size + 1])
        self.object_list = rows[:size]
        self.has_next = len(rows) > size
        self.next_after = self._cursor(self.object_list[-1]) if self.has_next else None
        self.is_first = position is None

    def _cursor(self, row) -> str:
        # A row is a model or, from a `values()` list shaped for display, a dict (with "pk").
        value = row.__getitem__ if isinstance(row, dict) else partial(getattr, row)
        if self.time_field:
            return f"{value(self.time_field).isoformat()}_{value('pk')}"
        return str(value("pk"))

    def _parse(self, after: str | None):
        if not after:
            return None
        try:
            if self.time_field:
                moment, _sep, pk = after.rpartition("_")
                moment = datetime.fromisoformat(moment)
                check_date_range(moment)  # year 1 with an offset overflows when a date column converts it
                return moment, int(pk)
            return int(after)
        except (ValueError, ValidationError):
            return None  # a mangled cursor shows the first page rather than an error

    def _after(self, queryset, position):
        if not self.time_field:
            return queryset.filter(**{f"pk__{'gt' if self.ascending else 'lt'}": position})
        # A row comparison, (time, id) > (moment, pk): the database walks the (time, id) index from the cursor on, as
        # an index condition. Django writes it out as `time > moment OR (time = moment AND id > pk)` only on a
        # database without row values (PostgreSQL and SQLite have them); that form the index serves as a filter.
        beyond = TupleGreaterThan if self.ascending else TupleLessThan
        return queryset.filter(beyond(Tuple(F(self.time_field), F("pk")), position))

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)
