"""Roles and what each may do: the one place that answers "may this user do that?".

Views, API viewsets and querysets ask `user.has_capability(...)`; none decides access by itself.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MANAGER = "manager", _("Client-service manager")
    HEAD = "head", _("Department head")
    ADVISOR = "advisor", _("Service advisor")
    TRANSPORT_HEAD = "transport_head", _("Transport department head")
    INTEGRATION = "integration", _("Integration (API only)")


class Capability(StrEnum):
    USE_PAGES = "use_pages"
    USE_API = "use_api"
    VIEW_CLIENTS = "view_clients"
    EDIT_CLIENTS = "edit_clients"
    VIEW_CALLS = "view_calls"
    LOG_CALLS = "log_calls"
    MANAGE_DUPLICATES = "manage_duplicates"
    MANAGE_USERS = "manage_users"
    VIEW_BOOKINGS = "view_bookings"
    EDIT_BOOKINGS = "edit_bookings"
    SERVICE_BOOKINGS = "service_bookings"
    OVERRIDE_CAPACITY = "override_capacity"
    MANAGE_WORKSHOP = "manage_workshop"
    MANAGE_RECALLS = "manage_recalls"
    MANAGE_CALLS = "manage_calls"
    VIEW_RECEPTION = "view_reception"
    EDIT_RECEPTION = "edit_reception"
    MANAGE_RECEPTION = "manage_reception"
    # The dashboards: the department's figures (the head's page, and the API for integrations); one's own figures.
    VIEW_DEPARTMENT_FIGURES = "view_department_figures"
    VIEW_OWN_FIGURES = "view_own_figures"
    # Lists holding personal data as CSV/XLSX files (logged).
    EXPORT_PERSONAL_DATA = "export_personal_data"


_STAFF = {
    Capability.USE_PAGES,
    Capability.USE_API,
    Capability.VIEW_CLIENTS,
}
_DESK = _STAFF | {
    Capability.EDIT_CLIENTS,
    Capability.VIEW_CALLS,
    Capability.LOG_CALLS,
    Capability.VIEW_BOOKINGS,
    Capability.EDIT_BOOKINGS,
    Capability.SERVICE_BOOKINGS,
    # The reception's desks: tow orders, tinting, printed materials.
    Capability.VIEW_RECEPTION,
    Capability.EDIT_RECEPTION,
    Capability.VIEW_OWN_FIGURES,
}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.MANAGER: frozenset(_DESK),
    Role.HEAD: frozenset(
        _DESK
        | {
            Capability.MANAGE_DUPLICATES,
            Capability.MANAGE_USERS,
            Capability.OVERRIDE_CAPACITY,
            Capability.MANAGE_WORKSHOP,
            Capability.MANAGE_RECALLS,
            Capability.MANAGE_CALLS,
            # Tow contractors, the film price list, the materials on file, the monthly reconciliation.
            Capability.MANAGE_RECEPTION,
            Capability.VIEW_DEPARTMENT_FIGURES,
            Capability.EXPORT_PERSONAL_DATA,
        }
    ),
    # The advisor receives the cars: sees bookings and arrivals, takes cars into service and completes them.
    # They also see the tow orders on their way to the workshop.
    Role.ADVISOR: frozenset(
        _STAFF
        | {Capability.VIEW_CALLS, Capability.VIEW_BOOKINGS, Capability.SERVICE_BOOKINGS, Capability.VIEW_RECEPTION}
    ),
    Role.TRANSPORT_HEAD: frozenset(_STAFF),
    # The dealership system pushes clients, vehicles, bookings and recall VIN lists, and reads the call log; it never
    # sees a page.
    Role.INTEGRATION: frozenset(
        {
            Capability.USE_API,
            Capability.VIEW_CLIENTS,
            Capability.EDIT_CLIENTS,
            Capability.VIEW_CALLS,
            Capability.VIEW_BOOKINGS,
            Capability.EDIT_BOOKINGS,
            Capability.MANAGE_RECALLS,
            Capability.VIEW_RECEPTION,
            Capability.VIEW_DEPARTMENT_FIGURES,
        }
    ),
}
ALL_CAPABILITIES = frozenset(Capability)


def capabilities_for(*, role: str, is_superuser: bool = False, is_active: bool = True) -> frozenset[Capability]:
    if not is_active:
        return frozenset()
    if is_superuser:
        return ALL_CAPABILITIES
    return ROLE_CAPABILITIES.get(role, frozenset())
