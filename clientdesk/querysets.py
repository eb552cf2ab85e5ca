from django.db import models


class VisibleQuerySet(models.QuerySet):
    """Rows a user may see: the one queryset method every view and viewset filters through.

    Today the department shares its whole base, so visibility is all-or-nothing by capability; a rule that narrows
    rows (say, by branch) goes here and every page and endpoint follows it. What a rule reads of the user must be in
    `visibility_key`: a query built for one user is run again for another with the same key (clientdesk.compiled).
    """

    view_capability: str  # a capability of `accounts.roles.Capability`, which the core does not import

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.has_capability(self.view_capability):
            return self.none()
        return self


def visibility_key(user) -> tuple:
    """Everything `visible_to` reads of a user (the rules in this module's subclasses: the capabilities, which come
    from the role and the superuser flag; the role; the id): two users with the same key see the same rows."""
    if user is None or not user.is_authenticated:
        return (None,)
    return (user.pk, user.role, user.is_superuser, user.is_active)
