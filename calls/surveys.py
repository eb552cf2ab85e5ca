"""The follow-up survey: record a buyer's answers and compute the CSI figure."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from accounts.models import User
from clientdesk.errors import Conflict
from clients.models import Delivery

from .models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse


def active_survey() -> Survey | None:
    return Survey.objects.filter(is_active=True).prefetch_related("questions").first()


def _csi(answers: list[tuple[SurveyQuestion, int | None]]) -> Decimal | None:
    """The share of the best possible score over the questions that count, as a percentage."""
    scored = [
        (question, score)
        for question, score in answers
        if question.counts_for_csi and question.max_score is not None and score is not None
    ]
    if not scored:
        return None
    value = 100 * sum(Decimal(score) / question.max_score for question, score in scored) / len(scored)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _parse(question: SurveyQuestion, raw) -> tuple[int | None, str]:
    if question.kind == SurveyQuestion.Kind.TEXT:
        return None, str(raw or "").strip()
    if raw in (None, ""):
        return None, ""
    if question.kind == SurveyQuestion.Kind.YES_NO and isinstance(raw, str):
        raw = {"yes": 1, "no": 0, "да": 1, "нет": 0}.get(raw.strip().lower(), raw)
    try:
        score = int(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("“%(question)s”: give a number.") % {"question": question.text}) from exc
    low = 1 if question.kind == SurveyQuestion.Kind.SCALE_5 else 0
    if not low <= score <= question.max_score:
        raise ValidationError(
            _("“%(question)s”: from %(low)d to %(high)d.")
            % {"question": question.text, "low": low, "high": question.max_score}
        )
    return score, ""


@transaction.atomic
def survey_record(*, delivery: Delivery, by: User, answers: dict, survey: Survey | None = None) -> SurveyResponse:
    """Store the buyer's answers (question id → score or text) once per delivery, with its CSI."""
    survey = survey or active_survey()
    if survey is None:
        raise ValidationError(_("No survey is in use; the head sets one up."))
    if SurveyResponse.objects.filter(delivery=delivery).exists():
        raise Conflict(_("This buyer's survey is already recorded."))
    questions = {q.pk: q for q in survey.questions.all()}
    unknown = {int(k) for k in answers} - set(questions) if all(str(k).isdigit() for k in answers) else {"?"}
    if unknown:
        raise ValidationError(_("These answers are not for this survey's questions."))
    parsed, errors = [], []
    for question_id, raw in answers.items():
        question = questions[int(question_id)]
        try:
            parsed.append((question, *_parse(question, raw)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"survey": errors})
    response = SurveyResponse.objects.create(
        delivery=delivery, survey=survey, taken_by=by, csi=_csi([(q, score) for q, score, _text in parsed])
    )
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(response=response, question=q, score=score, text=text) for q, score, text in parsed
    )
    return response


def csi_summary(responses=None) -> dict:
    """The average CSI and how many answered, for a queryset of responses (all by default)."""
    responses = responses if responses is not None else SurveyResponse.objects.all()
    result = responses.aggregate(csi=Avg("csi"), answered=Count("id"))
    if result["csi"] is not None:
        result["csi"] = Decimal(result["csi"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return result
