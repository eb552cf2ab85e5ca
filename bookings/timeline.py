"""The workshop visits' line on the client's and the vehicle's timelines (`clients.extensions.TimelineSource.line`,
registered in BookingsConfig.ready; why f-strings: `clients.timeline`)."""

from html import escape

from django.db.models import QuerySet
from django.utils.translation import gettext

from bookings.models import Booking
from clients.timeline import (
    choice_label,
    line_html,
    line_moment,
    user_columns,
    user_text,
    vehicle_columns,
    vehicle_text,
)


def booking_rows(bookings: QuerySet) -> QuerySet:
    """The visits as `booking_line` reads them."""
    return bookings.values(*("pk", "status", "starts_at", "area__name"), *user_columns("advisor"), *vehicle_columns())


def booking_line(entry, user) -> str:
    """The area and status, the advisor and the car; the whole line opens the visit."""
    booking = entry.obj
    status = escape(booking.status)
    label = choice_label(Booking.Status, booking.status)
    badge_class = Booking.STATUS_BADGES.get(booking.status, "text-bg-danger")
    badge = f'<span class="badge status-{status} {badge_class}">{label}</span>'
    visit = escape(gettext("Workshop visit"))
    title = f"<strong>{visit}</strong> · {escape(booking['area__name'])} · {badge}"
    facts = user_text(booking, "advisor")
    if vehicle := vehicle_text(booking):
        facts += f" · {vehicle}"
    details = f'<div class="small text-body-secondary">{facts}</div>'
    return line_html("booking-entry", title, line_moment(booking.starts_at), details, href=entry.url)
