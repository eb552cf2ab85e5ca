"""The reports on fixed forms (item 2.3 of the head's job): the daily department report and the weekly summary.

Each is the `report_sections` the apps registered (calls, bookings and visits, confirmations, follow-ups, CSI, and
claims once that app adds its section), their figures beside the previous period's, as a page, a PDF (printed form,
`clientdesk.pdf`) and an XLSX. The weekly summary of the week just ended is mailed to the recipients the head keeps,
once: beat runs `weekly_report_mail` every hour, and the first run after the week's end claims a `ReportMailing` row
(unique per report and week) before sending, so a second run, a second beat or a retried message sends nothing.
"""

import io
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import local_zone
from clientdesk.dashboard import DrawnTile, Period, draw, report_sections
from clientdesk.exports import XLSX, safe_cell
from clientdesk.pdf import render_pdf
from reports.models import ReportMailing, ReportRecipient

log = logging.getLogger(__name__)

REPORTS = {"daily": gettext_lazy("Daily department report"), "weekly": gettext_lazy("Weekly summary")}
STALE_CLAIM = timedelta(hours=1)  # a claim this old without its mail lost its worker: the next run takes it over
MAIL_HOUR = 7  # local time on Monday from which the week's summary goes


@dataclass(frozen=True)
class FixedReport:
    kind: str
    period: Period
    sections: list[DrawnTile]

    @property
    def title(self) -> str:
        return str(REPORTS[self.kind])

    @property
    def dates(self) -> str:
        if self.period.days == 1:
            return date_format(self.period.first, "DATE_FORMAT")
        return f"{date_format(self.period.first, 'DATE_FORMAT')} – {date_format(self.period.last, 'DATE_FORMAT')}"

    @property
    def filename(self) -> str:
        return f"{self.kind}-report-{self.period.first:%Y-%m-%d}"


def report_period(kind: str, day: date | None, *, today: date) -> Period:
    """The day (today by default), or the Monday-to-Sunday week holding `day` (the last full week by default)."""
    if kind == "daily":
        return Period.of("today", day or today)
    return Period.of("week", day or today - timedelta(days=7))


def fixed_report(kind: str, *, user, period: Period) -> FixedReport:
    return FixedReport(kind, period, draw(report_sections, user=user, period=period))


def _number(value, unit: str):
    if value is None:
        return None
    return f"{value}%" if unit == "%" else value


def report_xlsx(report: FixedReport) -> bytes:
    """One sheet: the title and the dates, then each section with its figures, this period's and the previous."""
    book = Workbook()
    sheet = book.active
    sheet.title = report.kind
    bold = Font(bold=True)
    sheet.append([safe_cell(report.title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([safe_cell(report.dates)])
    sheet.append([])
    sheet.append([_("Figure"), _("This period"), _("Previous period"), _("Change")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for section in report.sections:
        sheet.append([safe_cell(section.title)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        for figure in section.figures:
            sheet.append(
                [
                    safe_cell(str(figure.label)),
                    _number(figure.value, figure.unit),
                    _number(figure.previous, figure.unit),
                    figure.change,
                ]
            )
    sheet.column_dimensions["A"].width = 48
    for column in "BCD":
        sheet.column_dimensions[column].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_pdf(report: FixedReport) -> bytes:
    return render_pdf("reports/print/fixed_report.html", {"report": report, "pdf": True})


# --- who gets it, and the Monday mail -------------------------------------------------------------------------------


@transaction.atomic
def report_recipients_set(*, by, emails: list[str]) -> list[str]:
    """The weekly report's recipients become exactly `emails` (validated by the form), each change in history."""
    wanted = {email.strip().lower() for email in emails if email.strip()}
    for recipient in ReportRecipient.objects.exclude(email__in=wanted):
        recipient._history_user = by
        recipient.delete()
    present = set(ReportRecipient.objects.values_list("email", flat=True))
    for email in sorted(wanted - present):
        recipient = ReportRecipient(email=email)
        recipient._history_user = by
        recipient.save()
    return sorted(wanted)


def _department_user():
    """Whose eyes the mailed report is drawn with: an active head (the department's figures)."""
    return User.objects.filter(is_active=True, role=Role.HEAD).order_by("pk").first()


def _claim(report: str, period_start: date, now) -> ReportMailing | None:
    try:
        with transaction.atomic():
            return ReportMailing.objects.create(report=report, period_start=period_start, claimed_at=now)
    except IntegrityError:
        pass  # claimed already: sent, or being sent, by another run
    # A claim whose sender died (no mail after an hour) is taken over by exactly one run.
    taken = ReportMailing.objects.filter(
        report=report, period_start=period_start, sent_at__isnull=True, claimed_at__lt=now - STALE_CLAIM
    ).update(claimed_at=now)
    return ReportMailing.objects.get(report=report, period_start=period_start) if taken else None


def weekly_report_mail(*, now=None) -> bool:
    """Mail last week's summary (PDF and XLSX attached) to the recipients, once per week; True when this run sent
    it. Nothing is claimed while there is nobody to send to, or no head to read the figures as."""
    now = now or timezone.now()
    local = timezone.localtime(now, local_zone())
    if local.weekday() == 0 and local.hour < MAIL_HOUR:
        return False  # on Monday the mail goes with the working day, not at midnight
    period = Period.of("week", local.date() - timedelta(days=7))
    recipients = list(ReportRecipient.objects.values_list("email", flat=True))
    user = _department_user()
    if not recipients or user is None:
        return False
    mailing = _claim("weekly", period.first, now)
    if mailing is None:
        return False
    try:
        report = fixed_report("weekly", user=user, period=period)
        message = EmailMessage(
            subject=f"{report.title}: {report.dates}",
            body=_("The department's weekly summary for %(dates)s is attached (PDF and Excel).")
            % {"dates": report.dates},
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        message.attach(f"{report.filename}.pdf", report_pdf(report), "application/pdf")
        message.attach(f"{report.filename}.xlsx", report_xlsx(report), XLSX)
        message.send()
    except Exception:
        log.exception("The weekly report for %s was not sent", period.first)
        mailing.delete()  # unclaimed: the next run tries again
        raise
    ReportMailing.objects.filter(pk=mailing.pk).update(sent_at=timezone.now(), recipients=recipients)
    return True
