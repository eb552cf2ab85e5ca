"""The reports on fixed forms: the daily department report and the weekly summary as a page, a PDF (`?as=pdf`) and an
XLSX (`?as=xlsx`); and the page where the head says who gets the weekly summary by mail."""

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.exports import XLSX
from clientdesk.filters import EARLIEST, LATEST
from clientdesk.forms import StyledForm
from clientdesk.pdf import pdf_response
from clientdesk.views import ServiceFormView
from reports.models import ReportRecipient
from reports.services.fixed import fixed_report, report_pdf, report_period, report_recipients_set, report_xlsx


def _day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


class FixedReportView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.VIEW_DEPARTMENT_FIGURES
    template_name = "reports/fixed_report.html"
    kind = "daily"

    def get(self, request, *args, **kwargs):
        today = local_date(timezone.now())
        period = report_period(self.kind, _day(request.GET.get("day")), today=today)
        report = fixed_report(self.kind, user=request.user, period=period)
        wanted = request.GET.get("as")
        if wanted == "pdf":
            return pdf_response(report_pdf(report), f"{report.filename}.pdf", inline=False)
        if wanted == "xlsx":
            response = HttpResponse(report_xlsx(report), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="{report.filename}.xlsx"'
            return response
        return self.render_to_response(self.get_context_data(report=report, today=today))


class DailyReportView(FixedReportView):
    kind = "daily"


class WeeklyReportView(FixedReportView):
    kind = "weekly"


class RecipientsForm(StyledForm):
    emails = forms.CharField(
        label=gettext_lazy("E-mail addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("One address a line. The weekly summary goes to them every Monday."),
    )

    def clean_emails(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["emails"].replace(",", "\n").splitlines()]
        emails = [line for line in lines if line]
        wrong = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                wrong.append(email)
        if wrong:
            raise ValidationError(_("Not an e-mail address: %(list)s") % {"list": ", ".join(wrong)}, code="invalid")
        if len(emails) > 50:
            raise ValidationError(_("At most 50 addresses."), code="too_many")
        return emails


class RecipientsView(CapabilityRequiredMixin, ServiceFormView):
    required_capability = Capability.VIEW_DEPARTMENT_FIGURES
    template_name = "reports/recipients.html"
    form_class = RecipientsForm

    def get_initial(self):
        return {"emails": "\n".join(ReportRecipient.objects.values_list("email", flat=True))}

    def perform(self, form):
        saved = report_recipients_set(by=self.request.user, emails=form.cleaned_data["emails"])
        messages.success(self.request, _("Recipients saved: %(n)d.") % {"n": len(saved)})
        return redirect("reports:recipients")
