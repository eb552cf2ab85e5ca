"""Access rules applied in one place: a mixin for pages, a permission class for the API."""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

from accounts.roles import Capability


class CapabilityRequiredMixin(AccessMixin):
    """Every page view inherits this. Anonymous users go to sign-in; a user without the capability gets 403.

    `required_capability` names what the page needs beyond using pages at all (integration users never do).
    """

    required_capability: Capability | None = None

    def get_required_capabilities(self) -> list[Capability]:
        caps = [Capability.USE_PAGES]
        if self.required_capability:
            caps.append(self.required_capability)
        return caps

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not all(request.user.has_capability(cap) for cap in self.get_required_capabilities()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class HasCapability(permissions.BasePermission):
    """The API's permission: USE_API plus the capability the action needs: `action_capabilities[action]` if the
    viewset names one, else `read_capability` for safe methods and `write_capability` for the rest."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.has_capability(Capability.USE_API)):
            return False
        needed = getattr(view, "action_capabilities", {}).get(getattr(view, "action", None))
        if needed is None:
            safe = request.method in permissions.SAFE_METHODS
            needed = getattr(view, "read_capability" if safe else "write_capability", None)
        return needed is None or user.has_capability(needed)
