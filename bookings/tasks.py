from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.models import Booking
from clientdesk.timefmt import local_time_text


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_arrival_email(booking_id: int) -> bool:
    """Email the advisor that the client has arrived; a retry after a mail-server hiccup sends at most one more."""

    booking = Booking.objects.select_related("client", "vehicle", "advisor").filter(pk=booking_id).first()
    if booking is None or not booking.advisor.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=_("%(client)s has arrived") % {"client": booking.client},
            message=_("%(client)s, %(vehicle)s, booked for %(time)s.")
            % {
                "client": booking.client,
                "vehicle": booking.vehicle or "—",
                "time": local_time_text(booking.starts_at),
            },
            from_email=None,
            recipient_list=[booking.advisor.email],
        )
    return True
