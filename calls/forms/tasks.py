from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from bookings.selectors.slots import parse_slot_key
from calls.models import CallTask, SurveyQuestion, TaskOutcome
from calls.services.calls import outcomes_for
from clientdesk.calendar import local_zone
from clientdesk.forms import StyledForm


class TaskOutcomeForm(StyledForm):
    """How the call went. The fields a given outcome needs (a reason, a new time, a call-back time, the survey)
    are checked by the service, which answers with field errors."""

    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duration_minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=600, required=False)
    cancel_reason = forms.CharField(label=_("Reason for cancelling"), required=False, max_length=200)
    slot = forms.CharField(required=False, widget=forms.HiddenInput)
    call_back_date = forms.DateField(
        label=_("Call back on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    call_back_time = forms.TimeField(label=_("at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, task: CallTask, survey=None, take_over_from: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        if take_over_from is not None:
            self.fields["take_over"] = forms.BooleanField(
                label=_("Take the task over from %(user)s") % {"user": take_over_from}, required=False
            )
            self.fields["take_over"].widget.attrs["class"] = "form-check-input"
        self.fields["outcome"].choices = [(o.value, o.label) for o in outcomes_for(task.kind)]
        self.fields["outcome"].widget.attrs["class"] = "form-check-input"
        if task.kind != CallTask.Kind.CONFIRMATION:
            for name in ("cancel_reason", "slot"):
                del self.fields[name]
        self.survey_questions = []
        if task.kind == CallTask.Kind.FOLLOW_UP and survey is not None:
            for question in survey.questions.all():
                name = f"q_{question.pk}"
                self.survey_questions.append(name)
                if question.kind == SurveyQuestion.Kind.TEXT:
                    field = forms.CharField(
                        label=question.text,
                        required=False,
                        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                    )
                else:
                    low = 1 if question.kind == SurveyQuestion.Kind.SCALE_5 else 0
                    choices = [("", "—")] + [(str(n), str(n)) for n in range(low, question.max_score + 1)]
                    if question.kind == SurveyQuestion.Kind.YES_NO:
                        choices = [("", "—"), ("1", _("Yes")), ("0", _("No"))]
                    field = forms.ChoiceField(label=question.text, required=False, choices=choices)
                    field.widget.attrs["class"] = "form-select"
                # Not required by the form: a buyer who declines the survey leaves every question blank.
                field.widget.attrs["data-required"] = "1" if question.is_required else "0"
                self.fields[name] = field

    def service_kwargs(self) -> dict:

        data = self.cleaned_data
        kwargs = {
            "outcome": data["outcome"],
            "notes": data.get("notes", ""),
            "duration": (data.get("duration_minutes") or 0) * 60,
            "cancel_reason": data.get("cancel_reason", ""),
            "take_over": bool(data.get("take_over")),
        }
        if parsed := parse_slot_key(data.get("slot", "")):
            kwargs["new_advisor"] = User.objects.filter(pk=parsed[0]).first()
            kwargs["new_starts_at"] = parsed[1]
        if data.get("call_back_date") and data.get("call_back_time"):
            kwargs["call_back_at"] = datetime.combine(
                data["call_back_date"], data["call_back_time"], tzinfo=local_zone()
            )
        answers = {name[2:]: data.get(name) for name in self.survey_questions if data.get(name) not in (None, "")}
        if data["outcome"] == TaskOutcome.ANSWERED and self.survey_questions:
            # Sent even when blank: the service refuses a "talked" follow-up whose required questions are empty.
            kwargs["survey_answers"] = answers
        return kwargs
