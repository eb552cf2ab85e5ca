"""The head's webhooks page: the endpoints with their state, the latest deliveries with their attempts, replay and
switching an endpoint back on (the same services as the API)."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, Endpoint

LATEST = 50


class WebhookListView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def get(self, request):
        endpoints = list(Endpoint.objects.visible_to(request.user).select_related("owner").order_by("id"))
        deliveries = Delivery.objects.visible_to(request.user).select_related("event", "endpoint")
        chosen = request.GET.get("endpoint", "")
        if chosen.isdigit():
            deliveries = deliveries.filter(endpoint_id=int(chosen))
        status = request.GET.get("status", "")
        if status in Delivery.Status.values:
            deliveries = deliveries.filter(status=status)
        deliveries = deliveries.prefetch_related(
            Prefetch("log", queryset=DeliveryAttempt.objects.order_by("-at", "-id"))
        ).order_by("-id")[:LATEST]
        return render(
            request,
            "webhooks/list.html",
            {
                "endpoints": endpoints,
                "deliveries": deliveries,
                "statuses": Delivery.Status.choices,
                "chosen_endpoint": chosen,
                "chosen_status": status,
            },
        )


class DeliveryReplayView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        delivery = get_object_or_404(Delivery.objects.visible_to(request.user), pk=pk)
        services.delivery_replay(delivery=delivery, by=request.user)
        messages.success(request, _("The delivery will be sent again."))
        return redirect("webhooks:list")


class EndpointEnableView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        endpoint = get_object_or_404(Endpoint.objects.visible_to(request.user), pk=pk)
        services.endpoint_update(endpoint=endpoint, by=request.user, is_active=True)
        messages.success(request, _("The endpoint is switched on; waiting deliveries go out now."))
        return redirect("webhooks:list")
