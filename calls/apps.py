from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Calls")

    def ready(self) -> None:
        """What the calls app reacts to and what it adds to the pages of the apps below it."""
        from accounts import extensions as accounts
        from bookings import extensions as bookings
        from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
        from calls import dashboard, handlers, selectors, timeline
        from calls import extensions as calls
        from calls.services.loaners import call_about_overdue_loaner
        from calls.views import calls as views
        from clientdesk.events import subscribe
        from clients import extensions as clients
        from clients.events import DeliveryCorrected
        from fleet import selectors as fleet
        from fleet.events import LoanerReturnOverdue

        for event in (BookingBooked, BookingMoved, BookingStatusChanged):
            subscribe(event, handlers.follow_booking, durable=True)
        subscribe(DeliveryCorrected, handlers.follow_delivery, durable=True)
        # A loaner not back when due: one callback task for the client, and the list beside the manager's queue.
        subscribe(LoanerReturnOverdue, call_about_overdue_loaner, durable=True)
        calls.queue_panels.register(
            "fleet-overdue", calls.QueuePanel("fleet/_queue_overdue.html", fleet.overdue_queue_panel), order=20
        )

        clients.timeline_sources.register(
            "calls",
            clients.TimelineSource(
                "call",
                "started_at",
                selectors.client_timeline_calls,
                timeline.call_line,
                vehicle_rows=selectors.vehicle_timeline_calls,
            ),
            order=10,
        )
        clients.timeline_sources.register(
            "surveys",
            clients.TimelineSource(
                "survey",
                "answered_at",
                selectors.client_timeline_surveys,
                timeline.survey_line,
                vehicle_rows=selectors.vehicle_timeline_surveys,
            ),
            order=30,
        )
        clients.card_panels.register(
            "log-call", clients.CardPanel("calls/_client_call_form.html", views.client_call_form_panel)
        )
        clients.delivery_notices.register("follow-up", views.follow_up_notice)
        bookings.card_panels.register(
            "calls", bookings.CardPanel("calls/_booking_calls.html", views.booking_calls_panel)
        )
        accounts.absence_columns.register(
            "open-tasks", accounts.AbsenceColumn(_("Open tasks"), selectors.pending_tasks_of_user)
        )
        dashboard.register()
