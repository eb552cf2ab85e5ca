"""Where a signed-in person lands, and the notification bell every page polls."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from accounts.extensions import start_notices
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.models import Notification


class HomeView(CapabilityRequiredMixin, View):
    """Where each role starts: advisors at their arrivals, the head at the department's dashboard, everyone else at
    the client search; on the way, what other apps want them to know as the day starts
    (`accounts.extensions.start_notices`)."""

    def get(self, request):
        for notice in start_notices:
            if told := notice(request.user):
                messages.add_message(request, *told)
        if request.user.role == "advisor":
            return redirect("bookings:my-arrivals")
        if request.user.has_capability(Capability.VIEW_DEPARTMENT_FIGURES):
            return redirect("reports:dashboard")
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
