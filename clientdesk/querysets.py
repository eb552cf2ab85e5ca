from django.db import models


class VisibleQuerySet(models.QuerySet):
    """Rows a user may see: the one queryset method every view and viewset filters through.

    Today the department shares its whole base, so visibility is all-or-nothing by capability; a rule that narrows
    rows (say, by branch) goes here and every page and endpoint follows it.
    """

    view_capability: str  # a capability of `accounts.roles.Capability`, which the core does not import

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.has_capability(self.view_capability):
            return self.none()
        return self
