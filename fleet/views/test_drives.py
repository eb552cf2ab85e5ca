"""Test drives: book one (a client from their card, or a new contact from the sales floor), the list, and the daily
test-drive log (журнал тест-драйвов), printable per day."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.filters import day_from_query
from clientdesk.pdf import pdf_response, render_pdf
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from fleet import selectors
from fleet.forms import TestDriveForm
from fleet.models import TestDrive
from fleet.services import test_drives as services
from fleet.views.reservations import chosen_client


class TestDriveListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """Test drives, newest first, a page at a time; `?export=csv|xlsx` for all of them (the clients' names and
    licences are personal data: the head's, and logged)."""

    required_capability = Capability.VIEW_FLEET
    template_name = "fleet/test_drive_list.html"
    export_name = "test-drives"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        Column(gettext_lazy("From"), "reservation__starts_at", local_datetime_text),
        Column(gettext_lazy("Due back"), "reservation__ends_at", local_datetime_text),
        Column(gettext_lazy("Car"), "reservation__car__plate"),
        Column(gettext_lazy("Client"), "reservation__client__name"),
        model_column(TestDrive, "sales_manager"),
        model_column(TestDrive, "route"),
        model_column(TestDrive, "licence_number"),
        model_column(TestDrive, "licence_valid_until"),
    ]

    def export_queryset(self):
        return TestDrive.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        drives = TestDrive.objects.visible_to(self.request.user).select_related(
            "reservation__car", "reservation__client"
        )
        page = KeysetPage(drives, after=self.request.GET.get("after"))
        return super().get_context_data(page=page, query="", **kwargs)


class TestDriveCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.USE_FLEET
    template_name = "fleet/test_drive_form.html"

    def get(self, request):
        client = chosen_client(request, request.GET.get("client"))
        return render(request, self.template_name, {"client": client, "form": TestDriveForm(client=client)})

    def post(self, request):
        client = chosen_client(request, request.GET.get("client"))
        form = TestDriveForm(request.POST, client=client)
        if form.is_valid():
            data = form.cleaned_data
            who = client or services.NewContact(name=data["new_client_name"], phone=data["new_client_phone"])
            try:
                drive = services.test_drive_book(
                    by=request.user,
                    client=who,
                    car=data["car"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    sales_manager=data["sales_manager"],
                    route=data["route"],
                    licence_number=data["licence_number"],
                    licence_valid_until=data["licence_valid_until"],
                )
            except (ValidationError, Conflict) as exc:
                if isinstance(exc, ValidationError) and "phones" in getattr(exc, "error_dict", {}):
                    exc = ValidationError({"new_client_phone": exc.error_dict["phones"]})
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Test drive booked: %(drive)s.") % {"drive": drive})
                self.saved_once(drive, drive.get_absolute_url())
                return redirect(drive)
        return render(request, self.template_name, {"client": client, "form": form}, status=400)


class TestDriveLogView(CapabilityRequiredMixin, View):
    """The day's test-drive log; `?format=pdf` prints it."""

    required_capability = Capability.VIEW_FLEET

    def get(self, request):
        day = day_from_query(request.GET.get("day"), local_date(timezone.now()))
        context = {"day": day, "drives": selectors.test_drive_log(day)}
        if request.GET.get("format") == "pdf":
            return pdf_response(
                render_pdf("fleet/print/test_drive_log.html", context | {"pdf": True}), f"test-drives-{day}.pdf"
            )
        return render(request, "fleet/test_drive_log.html", context)


urlpatterns = [
    path("test-drives/", TestDriveListView.as_view(), name="test-drive-list"),
    path("test-drives/new/", TestDriveCreateView.as_view(), name="test-drive-create"),
    path("test-drives/log/", TestDriveLogView.as_view(), name="test-drive-log"),
]
