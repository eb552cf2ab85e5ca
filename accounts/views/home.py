"""Where a signed-in person lands, and the notification bell every page polls."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.models import Notification


class HomeView(CapabilityRequiredMixin, View):
    """Where each role starts: advisors at their arrivals, everyone else at the client search."""

    def get(self, request):
        if request.user.role == "advisor":
            return redirect("bookings:my-arrivals")
        if request.user.has_capability(Capability.VIEW_CLIENTS):
            return redirect("clients:search")
        return redirect("accounts:password-change")


class NotificationsView(CapabilityRequiredMixin, View):
    """The bell in the header: polled by HTMX every few seconds, so news appears without a reload."""

    def get(self, request):
        unread = list(Notification.objects.filter(user=request.user).unread()[:10])
        return render(request, "_notifications.html", {"unread": unread})

    def post(self, request):
        Notification.objects.filter(user=request.user).unread().update(read_at=timezone.now())
        return render(request, "_notifications.html", {"unread": []})
