"""The API's answer to OPTIONS (the settings name it; kept apart from clientdesk.api, which imports DRF's views)."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class ApiMetadata(SimpleMetadata):
    """OPTIONS answers: DRF's own asks for the object behind every PUT, which a route keyed by something other than the
    primary key (the DMS-id upserts) does not name; those describe their input without it."""

    def determine_actions(self, request, view):
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
                if method == "PUT" and lookup in view.kwargs:
                    view.get_object()
            except (exceptions.APIException, Http404):
                continue
            finally:
                view.request = request
            actions[method] = self.get_serializer_info(view.get_serializer())
        return actions
