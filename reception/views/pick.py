"""The client picker the tow and tinting forms share: the search box's answers, and the client a form names."""

from django.shortcuts import render

from clients import selectors as client_selectors
from clients.models import Client


class ClientPickMixin:
    def chosen_client(self, request, value) -> Client | None:
        """The client a form names by id (a merged card gives the client kept); None for anything else, a typed or
        tampered value included."""
        if not str(value or "").isdigit():
            return None
        client = client_selectors.clients_for_display(Client.objects.visible_to(request.user)).filter(pk=value).first()
        return client.merged_into if client is not None and client.is_merged else client

    def search_response(self, request):
        """What the search box shows as the manager types (HTMX)."""
        query = request.GET.get("q", "").strip()
        hits = client_selectors.client_search(query, user=request.user, limit=8) if query else []
        return render(request, "reception/_client_pick.html", {"query": query, "hits": hits})
