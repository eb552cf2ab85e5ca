"""Errors services raise that the web and API layers turn into a clear answer (a form error, a 409)."""

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """The request collides with what is already there (a DMS id or VIN in use, a merged client...): HTTP 409."""

    default_message = _("This conflicts with an existing record.")

    def __init__(self, message=None, *, field: str | None = None, existing=None):
        self.message = message or self.default_message
        self.field = field
        self.existing = existing
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        body: dict = {"detail": str(self.message)}
        if self.field:
            body[self.field] = [str(self.message)]
        if self.existing is not None:
            body["existing_id"] = self.existing.pk
        return body


class Stale(Conflict):
    """A write older than what is held (the DMS's own change time is before the one stored): HTTP 409, changes
    nothing. The body says `"code": "stale"` and the time held, so the sender can tell it from other conflicts."""

    default_message = _("This record was changed more recently in the DMS than this write: it was not applied.")

    def __init__(self, *, held_at, message=None):
        super().__init__(message, field="dms_updated_at")
        self.held_at = held_at

    def as_dict(self) -> dict:
        return {**super().as_dict(), "code": "stale", "held_dms_updated_at": self.held_at.isoformat()}


# The database went away (down, restarting, out of connections): the request may succeed in a moment, so the answer
# is 503 with Retry-After rather than a 500 (clientdesk.middleware for pages, clientdesk.api for the API).
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE_MESSAGE = _("The database is not answering. Try again in a minute.")
