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
    # The managements a claim is escalated to (they decide it), and the lawyers who endorse contracts.
    WORKSHOP_MANAGEMENT = "workshop_mgmt", _("Workshop management")
    SALES_MANAGEMENT = "sales_mgmt", _("Sales department management")
    LEGAL = "legal", _("Legal department")
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
    # Claims (claims/): see them (a management role sees those escalated to it); register and work them; decide
    # them (the head, or the management a claim is escalated to); the categories and their terms.
    VIEW_CLAIMS = "view_claims"
    WORK_CLAIMS = "work_claims"
    DECIDE_CLAIMS = "decide_claims"
    MANAGE_CLAIMS = "manage_claims"
    # The paper (documents/): see and find documents and correspondence; register them and move them along;
    # approve a contract (the head); endorse it (legal).
    VIEW_DOCUMENTS = "view_documents"
    EDIT_DOCUMENTS = "edit_documents"
    APPROVE_CONTRACTS = "approve_contracts"
    ENDORSE_CONTRACTS = "endorse_contracts"
    # Our own cars (fleet/): see the fleet board and the cars (an advisor: the loaners of their bookings); reserve,
    # check out and in, book test drives; maintain the fleet and clear inspections (the transport head).
    VIEW_FLEET = "view_fleet"
    USE_FLEET = "use_fleet"
    MANAGE_FLEET = "manage_fleet"


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
    Capability.VIEW_CLAIMS,
    Capability.WORK_CLAIMS,
    Capability.VIEW_DOCUMENTS,
    Capability.EDIT_DOCUMENTS,
    Capability.VIEW_FLEET,
    Capability.USE_FLEET,
}
_MANAGEMENT = _STAFF | {Capability.VIEW_CLAIMS, Capability.DECIDE_CLAIMS}

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
            Capability.DECIDE_CLAIMS,
            Capability.MANAGE_CLAIMS,
            Capability.APPROVE_CONTRACTS,
        }
    ),
    # The advisor receives the cars: sees bookings and arrivals, takes cars into service and completes them.
    # They also see the tow orders on their way to the workshop.
    Role.ADVISOR: frozenset(
        _STAFF
        | {
            Capability.VIEW_CALLS,
            Capability.VIEW_BOOKINGS,
            Capability.SERVICE_BOOKINGS,
            Capability.VIEW_RECEPTION,
            Capability.VIEW_FLEET,
            Capability.VIEW_OWN_FIGURES,
        }
    ),
    # The transport department head keeps the loaners and demo cars: the fleet, their state, inspections.
    Role.TRANSPORT_HEAD: frozenset(_STAFF | {Capability.VIEW_FLEET, Capability.MANAGE_FLEET}),
    Role.WORKSHOP_MANAGEMENT: frozenset(_MANAGEMENT),
    Role.SALES_MANAGEMENT: frozenset(_MANAGEMENT),
    Role.LEGAL: frozenset(_STAFF | {Capability.VIEW_DOCUMENTS, Capability.ENDORSE_CONTRACTS}),
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
            # It reads claims, pushes the documents of a sale, and reads the fleet.
            Capability.VIEW_CLAIMS,
            Capability.VIEW_DOCUMENTS,
            Capability.EDIT_DOCUMENTS,
            Capability.VIEW_FLEET,
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
