"""Campaign and survey pages.

Campaigns: the head creates, edits (while a draft), launches, cancels and finishes them; managers may open the list and
a campaign (read-only) to read the script and see how it goes before their calls come up. The segment form shows a
live count of matching clients (HTMX), and a running campaign's progress refreshes itself every 10 seconds.

Surveys: the head defines the follow-up survey, puts one in use, and reads the CSI report.

Included in calls/urls.py as `*views_campaigns.urlpatterns` (namespace "calls").
"""

from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from calls.api.campaigns import SurveyResponseFilter
from calls.models import CallTask, Campaign, CampaignMember, Survey, SurveyQuestion, SurveyResponse
from calls.services import campaigns as campaign_services
from calls.services import surveys as survey_services
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column, yes_no
from clientdesk.forms import StyledForm
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, ServiceFormView, apply_validation_error

YES_NO = [("", gettext_lazy("any")), ("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))]
DATE_WIDGET = {"type": "date"}


# --- forms ----------------------------------------------------------------------------------------------------------


class SegmentForm(StyledForm):
    """The segment as ordinary fields; the service judges the combination (and is the one place that validates)."""

    make = forms.CharField(label=gettext_lazy("Make"), required=False, max_length=50)
    model = forms.CharField(label=gettext_lazy("Model"), required=False, max_length=80)
    year_from = forms.IntegerField(label=gettext_lazy("Model year from"), required=False)
    year_to = forms.IntegerField(label=gettext_lazy("Model year to"), required=False)
    months_since_visit = forms.IntegerField(
        label=gettext_lazy("No visit for, months"),
        required=False,
        help_text=gettext_lazy("No completed visit within this many months; clients who never came count too."),
    )
    open_recall = forms.TypedChoiceField(
        label=gettext_lazy("Open recall on a car"), required=False, coerce=lambda v: v == "yes", empty_value=None
    )
    delivered_here = forms.TypedChoiceField(
        label=gettext_lazy("Has a car bought here"), required=False, coerce=lambda v: v == "yes", empty_value=None
    )

    SEGMENT_FIELDS = (
        "make",
        "model",
        "year_from",
        "year_to",
        "months_since_visit",
        "open_recall",
        "delivered_here",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("open_recall", "delivered_here"):
            self.fields[name].choices = YES_NO

    @staticmethod
    def initial_for(segment: dict) -> dict:
        initial = {}
        for name, value in segment.items():
            initial[name] = ("yes" if value else "no") if isinstance(value, bool) else value
        return initial

    def segment(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in self.SEGMENT_FIELDS
            if self.cleaned_data.get(name) not in (None, "")
        }


class CampaignForm(SegmentForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    script = forms.CharField(
        label=gettext_lazy("Script"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What the manager says on the call."),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("Call from"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Call until"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )

    field_order = ["name", "script", "starts_on", "ends_on", *SegmentForm.SEGMENT_FIELDS]

    def segment_fields(self):
        return [self[name] for name in self.SEGMENT_FIELDS]

    def main_fields(self):
        return [self[name] for name in ("name", "script", "starts_on", "ends_on")]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "script": data["script"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "segment": self.segment(),
        }


class SurveyForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)


class QuestionForm(StyledForm):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    position = forms.IntegerField(label=gettext_lazy("No."), required=False, min_value=0, max_value=999)
    text = forms.CharField(label=gettext_lazy("Question"), required=False, max_length=300)
    kind = forms.ChoiceField(
        label=gettext_lazy("Answer"), choices=SurveyQuestion.Kind.choices, initial=SurveyQuestion.Kind.SCALE_5
    )
    counts_for_csi = forms.BooleanField(label=gettext_lazy("Counts for CSI"), required=False, initial=True)


class BaseQuestionFormSet(forms.BaseFormSet):
    def rows(self) -> list[tuple[forms.Form, survey_services.QuestionInput]]:
        """The filled rows in the order the head numbered them (unnumbered ones last, as listed)."""
        filled = []
        for index, form in enumerate(self.forms):
            data = form.cleaned_data
            if not data or (data.get("id") is None and not (data.get("text") or "").strip()):
                continue  # an untouched empty row
            row = survey_services.QuestionInput(
                id=data.get("id"),
                text=data.get("text") or "",
                kind=data["kind"],
                counts_for_csi=data.get("counts_for_csi", False),
                remove=self._should_delete_form(form),
            )
            position = data.get("position")
            filled.append(((position is None, position or 0, index), form, row))
        filled.sort(key=lambda item: item[0])
        return [(form, row) for _key, form, row in filled]


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=BaseQuestionFormSet, extra=2, can_delete=True, max_num=30, validate_max=True
)


def question_formset(data=None, *, survey: Survey | None = None):
    initial = []
    if survey is not None:
        initial = [
            {"id": q.pk, "position": q.position, "text": q.text, "kind": q.kind, "counts_for_csi": q.counts_for_csi}
            for q in survey.questions.all()
        ]
    return QuestionFormSet(data, initial=initial, prefix="questions")


# --- campaigns ------------------------------------------------------------------------------------------------------


def _query_without(request, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


class CampaignListView(CapabilityRequiredMixin, TemplateView):
    """Campaigns, newest first, each with its progress bar (one aggregate query for the whole page)."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/campaign_list.html"

    def get_context_data(self, **kwargs):
        queryset = Campaign.objects.all()
        filterset = campaign_services.CampaignFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"))
        progress = campaign_services.campaigns_progress(c.pk for c in page)
        for campaign in page:
            campaign.progress = progress[campaign.pk]
        return super().get_context_data(
            filter=filterset, page=page, query=_query_without(self.request, "after"), **kwargs
        )


class CampaignFormMixin(CapabilityRequiredMixin):
    required_capability = Capability.MANAGE_CALLS
    template_name = "calls/campaign_form.html"
    form_class = CampaignForm


class CampaignCreateView(CampaignFormMixin, ServiceFormView):
    def perform(self, form):
        campaign = campaign_services.campaign_create(by=self.request.user, **form.service_kwargs())
        messages.success(self.request, _("Campaign “%(name)s” saved as a draft.") % {"name": campaign.name})
        return redirect("calls:campaign-detail", campaign.pk)


class CampaignUpdateView(CampaignFormMixin, ServiceFormView):
    @cached_property
    def campaign(self) -> Campaign:
        return get_object_or_404(Campaign, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        if self.campaign.status != Campaign.Status.DRAFT:
            messages.info(request, _("A launched campaign cannot be changed."))
            return redirect("calls:campaign-detail", self.campaign.pk)
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        campaign = self.campaign
        return {
            "name": campaign.name,
            "script": campaign.script,
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
            **CampaignForm.initial_for(campaign.segment),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(campaign=self.campaign, **kwargs)

    def perform(self, form):
        campaign = campaign_services.campaign_update(
            campaign=self.campaign, by=self.request.user, **form.service_kwargs()
        )
        messages.success(self.request, _("Saved."))
        return redirect("calls:campaign-detail", campaign.pk)


class CampaignPreviewView(CapabilityRequiredMixin, View):
    """The live count beside the segment fields: how many consenting clients the segment selects right now."""

    required_capability = Capability.MANAGE_CALLS
    template_name = "calls/campaign_preview.html"

    def get(self, request):
        form = SegmentForm(request.GET)
        count, errors = None, []
        if form.is_valid():
            try:
                count = campaign_services.campaign_preview_count(form.segment())
            except ValidationError as exc:
                errors = exc.messages
        else:
            errors = [error for field_errors in form.errors.values() for error in field_errors]
        # HTMX swaps only successful answers; a plain request for a bad segment gets a 400 like any refused form.
        status = 400 if errors and not request.htmx else 200
        return render(request, self.template_name, {"count": count, "errors": errors}, status=status)


class CampaignDetailView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """The script, the segment, the progress (refreshed while running) and the members, page by page;
    `?export=csv|xlsx` gives the members with their calls as a file (the head's, logged)."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/campaign_detail.html"
    export_name = "campaign-members"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        Column(gettext_lazy("Client"), "client__name"),
        model_column(CampaignMember, "planned_for"),
        Column(gettext_lazy("Call"), "task__status", show=dict(CallTask.Status.choices).get),
        Column(gettext_lazy("Next attempt"), "task__next_attempt_at", local_datetime_text),
        Column(gettext_lazy("Manager"), "manager_name"),
        Column(gettext_lazy("Outcome"), "task__outcome"),
    ]

    def export_queryset(self):
        campaign = get_object_or_404(Campaign, pk=self.kwargs["pk"])
        return (
            CampaignMember.objects.filter(campaign=campaign)
            .annotate(manager_name=User.name_expression("task__assignee"))
            .order_by("pk")
        )

    def get_context_data(self, **kwargs):
        campaign = get_object_or_404(Campaign.objects.select_related("created_by"), pk=self.kwargs["pk"])
        can_manage = self.request.user.has_capability(Capability.MANAGE_CALLS)
        members = KeysetPage(
            campaign_services.campaign_members(campaign), after=self.request.GET.get("after"), ascending=True
        )
        preview = None
        if campaign.status == Campaign.Status.DRAFT and can_manage:
            preview = campaign_services.campaign_preview_count(campaign.segment)
        return super().get_context_data(
            campaign=campaign,
            progress=campaign_services.campaign_progress(campaign),
            summary=campaign_services.segment_summary(campaign.segment),
            members=members,
            preview=preview,
            can_manage=can_manage,
            today=local_date(timezone.now()),
            query=_query_without(self.request, "after"),
            **kwargs,
        )


class CampaignProgressView(CapabilityRequiredMixin, View):
    """The progress card alone, for the detail page's 10-second polling."""

    required_capability = Capability.LOG_CALLS

    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        context = {"campaign": campaign, "progress": campaign_services.campaign_progress(campaign)}
        return render(request, "calls/campaign_progress.html", context)


class CampaignActionView(CapabilityRequiredMixin, View):
    """A button on the campaign page (launch, cancel, finish): one service call, a message, back to the page."""

    required_capability = Capability.MANAGE_CALLS
    service = None

    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            campaign = self.service(campaign=campaign, by=request.user)
        except (ValidationError, Conflict) as exc:
            texts = exc.messages if isinstance(exc, ValidationError) else [str(exc.message)]
            messages.error(request, " ".join(texts))
        else:
            messages.success(request, self.done_message(campaign))
        return redirect("calls:campaign-detail", campaign.pk)

    def done_message(self, campaign) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class CampaignLaunchView(CampaignActionView):
    service = staticmethod(campaign_services.campaign_launch)

    def done_message(self, campaign) -> str:
        if not campaign.members_added:
            return _("The campaign was already running; nothing changed.")
        days = campaign.calling_days
        return _(
            "Campaign launched: %(count)d clients will be called over %(days)d working days, %(first)s to %(last)s."
        ) % {
            "count": campaign.members_added,
            "days": len(days),
            "first": formats.date_format(days[0], "SHORT_DATE_FORMAT"),
            "last": formats.date_format(days[-1], "SHORT_DATE_FORMAT"),
        }


class CampaignCancelView(CampaignActionView):
    service = staticmethod(campaign_services.campaign_cancel)

    def done_message(self, campaign) -> str:
        return _("Campaign cancelled; its open calls are off the queue.")


class CampaignFinishView(CampaignActionView):
    service = staticmethod(campaign_services.campaign_finish)

    def done_message(self, campaign) -> str:
        return _("Campaign finished.")


# --- surveys --------------------------------------------------------------------------------------------------------


class SurveyListView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.MANAGE_CALLS
    template_name = "calls/survey_list.html"

    def get_context_data(self, **kwargs):
        surveys = survey_services.surveys_with_counts().order_by("-is_active", "-created_at", "-pk")
        return super().get_context_data(surveys=surveys, **kwargs)


class SurveyEditView(CapabilityRequiredMixin, View):
    """A survey's name and its questions (a formset: add rows, renumber them, tick "delete"), saved in one go."""

    required_capability = Capability.MANAGE_CALLS
    template_name = "calls/survey_form.html"

    def get_survey(self) -> Survey | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(Survey, pk=pk) if pk else None

    def render_form(self, request, survey, form, questions, status=200):
        context = {"survey": survey, "form": form, "questions": questions}
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk=None):
        survey = self.get_survey()
        form = SurveyForm(initial={"name": survey.name} if survey else None)
        return self.render_form(request, survey, form, question_formset(survey=survey))

    def post(self, request, pk=None):
        survey = self.get_survey()
        form, questions = SurveyForm(request.POST), question_formset(request.POST, survey=survey)
        if form.is_valid() and questions.is_valid():
            rows = questions.rows()
            name, inputs = form.cleaned_data["name"], [row for _form, row in rows]
            try:
                if survey is None:
                    survey = survey_services.survey_create(by=request.user, name=name, questions=inputs)
                else:
                    survey = survey_services.survey_save(survey=survey, by=request.user, name=name, questions=inputs)
            except (ValidationError, Conflict) as exc:
                _apply_row_errors(exc, form, [row_form for row_form, _row in rows])
            else:
                messages.success(request, _("Survey saved."))
                return redirect("calls:survey-edit", survey.pk)
        return self.render_form(request, survey, form, questions, status=400)


def _apply_row_errors(exc, form, row_forms) -> None:
    """Errors keyed `questions-<row>-<field>` go beside that row's field; the rest on the survey's form."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key in list(exc.error_dict):
            prefix, _sep, rest = key.partition("-")
            index, _sep, field = rest.partition("-")
            if prefix == "questions" and index.isdigit() and int(index) < len(row_forms):
                row_form = row_forms[int(index)]
                row_form.add_error(field if field in row_form.fields else None, exc.error_dict.pop(key))
        if not exc.error_dict:
            return
    apply_validation_error(form, exc)


class SurveyActionView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_CALLS
    service = None
    done = ""

    def post(self, request, pk):
        survey = get_object_or_404(Survey, pk=pk)
        try:
            self.service(survey=survey, by=request.user)
        except (ValidationError, Conflict) as exc:
            texts = exc.messages if isinstance(exc, ValidationError) else [str(exc.message)]
            messages.error(request, " ".join(texts))
        else:
            messages.success(request, str(self.done) % {"name": survey.name})
        return redirect("calls:survey-list")


class SurveyActivateView(SurveyActionView):
    service = staticmethod(survey_services.survey_activate)
    done = gettext_lazy("“%(name)s” is now asked on every follow-up call.")


class SurveyDeactivateView(SurveyActionView):
    service = staticmethod(survey_services.survey_deactivate)
    done = gettext_lazy("“%(name)s” is no longer asked.")


class SurveyReportView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """CSI per month for the last 12 months (a line chart), overall, and the chosen survey's questions;
    `?export=csv|xlsx` gives the chosen survey's answers (narrowed by `answered_after`/`answered_before`, the list
    endpoint's filters) as a file (the head's, logged)."""

    required_capability = Capability.MANAGE_CALLS
    template_name = "calls/survey_report.html"
    export_name = "survey-answers"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        model_column(SurveyResponse, "answered_at", local_datetime_text),
        Column(gettext_lazy("Client"), "delivery__client__name"),
        Column(gettext_lazy("VIN"), "delivery__vehicle__vin"),
        Column(gettext_lazy("Survey"), "survey__name"),
        model_column(SurveyResponse, "csi"),
        Column(gettext_lazy("Declined"), "declined", yes_no),
        Column(gettext_lazy("Asked by"), "taken_by_name"),
    ]

    def chosen_survey(self, surveys: list[Survey]) -> Survey | None:
        chosen = self.request.GET.get("survey", "")
        return next((s for s in surveys if str(s.pk) == chosen), surveys[0] if surveys else None)

    def export_queryset(self):
        survey = self.chosen_survey(list(Survey.objects.order_by("-is_active", "-created_at", "-pk")))
        filterset = SurveyResponseFilter(self.request.GET, queryset=SurveyResponse.objects.filter(survey=survey))
        rows = filterset.qs if filterset.is_valid() else SurveyResponse.objects.none()
        return rows.annotate(taken_by_name=User.name_expression("taken_by")).order_by("-answered_at", "-id")

    def get_context_data(self, **kwargs):
        surveys = list(Survey.objects.order_by("-is_active", "-created_at", "-pk"))
        survey = self.chosen_survey(surveys)
        report = survey_services.csi_report(survey=survey)
        chart = {
            "label": _("CSI, %"),
            "labels": [formats.date_format(row["month"], "YEAR_MONTH_FORMAT") for row in report["months"]],
            "values": [None if row["csi"] is None else float(row["csi"]) for row in report["months"]],
            "answered": [row["answered"] for row in report["months"]],
        }
        query = f"survey={survey.pk}" if survey else ""  # what the export buttons add to
        return super().get_context_data(
            surveys=surveys, survey=survey, report=report, chart=chart, query=query, **kwargs
        )


urlpatterns = [
    path("campaigns/", CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/new/", CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/preview/", CampaignPreviewView.as_view(), name="campaign-preview"),
    path("campaigns/<int:pk>/", CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", CampaignUpdateView.as_view(), name="campaign-edit"),
    path("campaigns/<int:pk>/progress/", CampaignProgressView.as_view(), name="campaign-progress"),
    path("campaigns/<int:pk>/launch/", CampaignLaunchView.as_view(), name="campaign-launch"),
    path("campaigns/<int:pk>/cancel/", CampaignCancelView.as_view(), name="campaign-cancel"),
    path("campaigns/<int:pk>/finish/", CampaignFinishView.as_view(), name="campaign-finish"),
    path("surveys/", SurveyListView.as_view(), name="survey-list"),
    path("surveys/new/", SurveyEditView.as_view(), name="survey-create"),
    path("surveys/csi/", SurveyReportView.as_view(), name="survey-report"),
    path("surveys/<int:pk>/", SurveyEditView.as_view(), name="survey-edit"),
    path("surveys/<int:pk>/activate/", SurveyActivateView.as_view(), name="survey-activate"),
    path("surveys/<int:pk>/deactivate/", SurveyDeactivateView.as_view(), name="survey-deactivate"),
]
