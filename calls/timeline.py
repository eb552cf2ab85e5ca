"""The calls' and follow-up survey answers' lines on the client's and the vehicle's timelines
(`clients.extensions.TimelineSource.line`, registered in CallsConfig.ready; why f-strings: `clients.timeline`)."""

from html import escape

from django.db.models import QuerySet
from django.template.defaultfilters import linebreaksbr
from django.utils.formats import localize
from django.utils.translation import gettext

from calls.extensions import call_action_links
from calls.models import Call
from clients.timeline import (
    choice_label,
    line_html,
    line_moment,
    user_columns,
    user_text,
    vehicle_columns,
    vehicle_text,
)


def call_rows(calls: QuerySet) -> QuerySet:
    """The calls as `call_line` reads them."""
    return calls.values(
        *("pk", "direction", "purpose", "outcome", "started_at", "duration", "notes", "phone_number", "phone_e164"),
        *user_columns("manager"),
        *vehicle_columns(),
    )


def call_line(entry, user) -> str:
    """Direction, purpose, outcome; who talked, on which number, about which car, how long; the notes; and on a
    complaint what other apps offer (register a claim from it)."""
    call = entry.obj
    direction = choice_label(Call.Direction, call.direction)
    purpose, outcome = choice_label(Call.Purpose, call.purpose), choice_label(Call.Outcome, call.outcome)
    title = f"<strong>{direction}</strong> · {purpose} · {outcome}"
    facts = user_text(call, "manager")
    if phone := Call.phone_label(call.phone_e164, call.phone_number):
        facts += f" · {escape(phone)}"
    if vehicle := vehicle_text(call):
        facts += f" · {vehicle}"
    if call.duration:
        # the figure and its unit kept together on a narrow screen
        seconds = gettext("%(seconds)s s") % {"seconds": localize(call.duration)}
        facts += " · " + escape(seconds).replace(" ", "\N{NO-BREAK SPACE}")
    details = f'<div class="small text-body-secondary">{facts}</div>'
    if call.notes:
        details += f'<div class="small">{linebreaksbr(call.notes)}</div>'
    if call.purpose == Call.Purpose.COMPLAINT:
        details += f'<div class="mt-1">{call_action_links(call, user)}</div>'
    return line_html(f"call-{escape(call.direction)}", title, line_moment(call.started_at), details)


def survey_rows(responses: QuerySet) -> QuerySet:
    """The survey answers as `survey_line` reads them."""
    return responses.values(
        *("pk", "answered_at", "declined", "csi"), *user_columns("taken_by"), *vehicle_columns("delivery__vehicle")
    )


def survey_line(entry, user) -> str:
    """The handover's car and the answer: declined, or the CSI score; who asked."""
    response = entry.obj
    survey = escape(gettext("Follow-up survey"))
    title = f"<strong>{survey}</strong> · {vehicle_text(response, 'delivery__vehicle')}"
    if response.declined:
        result = escape(gettext("Declined the survey"))
    else:
        result = f"CSI {localize(response.csi) if response.csi else '—'}%"
    result += f" · {user_text(response, 'taken_by')}"
    details = f'<div class="small survey-result">{result}</div>'
    return line_html("survey-entry", title, line_moment(entry.at), details)
