"""The follow-up survey: the head defines it, the 7-day call records a buyer's answers, the CSI figure sums them up."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from calls.events import SurveyAnswered
from calls.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from clientdesk import events
from clientdesk.calendar import at, local_date, local_zone
from clientdesk.errors import Conflict
from clients.models import Delivery


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
    events.publish(SurveyAnswered(response_id=response.pk, by_id=by.pk))
    return response


def survey_missing_answers(survey: Survey, answers: dict) -> dict[str, list[str]]:
    """Field errors for the survey's required questions left blank in `answers` (keyed `q_<question id>`, as the
    outcome form names them, with one message for the survey as a whole); empty when none is missing."""
    given = {str(key) for key, value in answers.items() if str(value if value is not None else "").strip()}
    errors = {
        f"q_{question.pk}": [_("Answer this question.")]
        for question in survey.questions.all()
        if question.is_required and str(question.pk) not in given
    }
    if errors:
        errors["survey"] = [
            _("The survey is not complete: answer the questions marked, or record that the buyer declined the survey.")
        ]
    return errors


@transaction.atomic
def survey_decline(*, delivery: Delivery, by: User, survey: Survey | None = None) -> SurveyResponse:
    """Record that the buyer talked but declined the survey: kept once per delivery like an answer, counted apart in
    the CSI report and never as a score."""
    survey = survey or active_survey()
    if survey is None:
        raise ValidationError(_("No survey is in use; the head sets one up."))
    if SurveyResponse.objects.filter(delivery=delivery).exists():
        raise Conflict(_("This buyer's survey is already recorded."))
    response = SurveyResponse.objects.create(delivery=delivery, survey=survey, taken_by=by, declined=True, csi=None)
    events.publish(SurveyAnswered(response_id=response.pk, by_id=by.pk))
    return response


def csi_summary(responses=None) -> dict:
    """The average CSI, how many answered and how many declined, for a queryset of responses (all by default)."""
    responses = responses if responses is not None else SurveyResponse.objects.all()
    result = responses.aggregate(
        csi=Avg("csi"), answered=Count("id", filter=Q(declined=False)), declined=Count("id", filter=Q(declined=True))
    )
    if result["csi"] is not None:
        result["csi"] = Decimal(result["csi"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return result


# --- the survey the head defines ------------------------------------------------------------------------------------
#
# Writes (keyword-only, transactional; the survey's history records who changed it):
#     survey_create(*, by, name, questions=()) -> Survey
#     survey_update(*, survey, by, name) -> Survey
#     survey_question_add(*, survey, by, text, kind, counts_for_csi=True) -> SurveyQuestion
#     survey_question_update(*, question, by, **fields) -> SurveyQuestion      kind fixed once answered
#     survey_question_remove(*, question, by)                                   refused once answered
#     survey_questions_reorder(*, survey, by, order)                            question ids in their new order
#     survey_save(*, survey, by, name, questions)                               the edit page's one call
#     survey_activate(*, survey, by), survey_deactivate(*, survey, by)         at most one survey in use
#
# Reads: surveys_with_counts(), csi_report(...).

QUESTION_FIELDS = frozenset({"text", "kind", "counts_for_csi"})


@dataclass(frozen=True)
class QuestionInput:
    """One row of the survey form: an existing question (`id`) or a new one (`id` None); `remove` drops it."""

    text: str
    kind: str = SurveyQuestion.Kind.SCALE_5
    counts_for_csi: bool = True
    id: int | None = None
    remove: bool = False


def _save_survey(survey: Survey, *, by: User | None, reason: str = "") -> None:
    survey.full_clean(validate_constraints=False)
    survey._history_user = by
    if reason:
        survey._change_reason = reason
    survey.save()


def _is_answered(question: SurveyQuestion) -> bool:
    return SurveyAnswer.objects.filter(question=question).exists()


@transaction.atomic
def survey_create(*, by: User, name: str, questions: Iterable[QuestionInput] = ()) -> Survey:
    """A new survey, not yet in use; questions in the order given (refused rows as in `survey_save`)."""
    survey = Survey(name=(name or "").strip())
    _save_survey(survey, by=by)
    questions = list(questions)
    if questions:
        survey = survey_save(survey=survey, by=by, name=survey.name, questions=questions)
    return survey


@transaction.atomic
def survey_update(*, survey: Survey, by: User, name: str) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    name = (name or "").strip()
    if name != survey.name or not name:
        survey.name = name
        _save_survey(survey, by=by)
    return survey


def _clean_question(question: SurveyQuestion) -> None:
    question.text = " ".join((question.text or "").split())
    if question.kind == SurveyQuestion.Kind.TEXT:
        # A free-text answer has no score, so it cannot count towards the CSI percentage.
        question.counts_for_csi = False
    question.full_clean()


@transaction.atomic
def survey_question_add(
    *, survey: Survey, by: User, text: str, kind: str = SurveyQuestion.Kind.SCALE_5, counts_for_csi: bool = True
) -> SurveyQuestion:
    """A question at the end of the survey."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    last = survey.questions.aggregate(last=Max("position"))["last"] or 0
    question = SurveyQuestion(survey=survey, position=last + 1, text=text, kind=kind, counts_for_csi=counts_for_csi)
    _clean_question(question)
    question.save()
    _save_survey(survey, by=by, reason="question added")
    return question


@transaction.atomic
def survey_question_update(*, question: SurveyQuestion, by: User, **fields) -> SurveyQuestion:
    """Change the text, the kind of answer or whether it counts for the CSI. Once a buyer has answered it, its kind
    is fixed: the scores already given were on that scale."""
    unknown = set(fields) - QUESTION_FIELDS
    if unknown:
        raise TypeError(f"survey_question_update cannot set {sorted(unknown)}")
    question = SurveyQuestion.objects.select_for_update().select_related("survey").get(pk=question.pk)
    if "kind" in fields and fields["kind"] != question.kind and _is_answered(question):
        raise ValidationError(
            {"kind": _("Buyers have answered this question already; its kind of answer cannot change.")}
        )
    changed = [name for name, value in fields.items() if getattr(question, name) != value]
    for name in changed:
        setattr(question, name, fields[name])
    _clean_question(question)
    question.save()
    if changed:
        _save_survey(question.survey, by=by, reason="question changed")
    return question


@transaction.atomic
def survey_question_remove(*, question: SurveyQuestion, by: User) -> None:
    """Remove a question nobody has answered; an answered one stays, as the answers refer to it."""
    question = SurveyQuestion.objects.select_for_update().select_related("survey").get(pk=question.pk)
    if _is_answered(question):
        raise Conflict(_("Buyers have answered “%(question)s” already; it cannot be removed.") % {"question": question})
    survey = question.survey
    question.delete()
    _save_survey(survey, by=by, reason="question removed")


@transaction.atomic
def survey_questions_reorder(*, survey: Survey, by: User, order: list[int]) -> None:
    """Put the survey's questions in this order (every question id of the survey, once)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    questions = {q.pk: q for q in survey.questions.all()}
    if sorted(order) != sorted(questions) or len(set(order)) != len(order):
        raise ValidationError({"order": _("List each of the survey's questions once.")})
    moved = []
    for position, pk in enumerate(order, start=1):
        if questions[pk].position != position:
            questions[pk].position = position
            moved.append(questions[pk])
    if moved:
        SurveyQuestion.objects.bulk_update(moved, ["position"])
        _save_survey(survey, by=by, reason="questions reordered")


@transaction.atomic
def survey_save(*, survey: Survey, by: User, name: str, questions: list[QuestionInput]) -> Survey:
    """The edit page in one call: the name, then each row (new, changed or removed), then the rows' order.

    A refused row answers with errors keyed `questions-<row>-<field>` (the row's index in `questions`) and nothing
    is saved.
    """
    survey = survey_update(survey=survey, by=by, name=name)
    own = {q.pk: q for q in survey.questions.all()}
    errors: dict[str, list[str]] = {}
    order: list[int] = []
    for index, row in enumerate(questions):
        if row.id is not None and row.id not in own:
            errors[f"questions-{index}-text"] = [_("This question belongs to another survey.")]
            continue
        try:
            if row.id is None:
                if not row.remove:
                    order.append(
                        survey_question_add(
                            survey=survey, by=by, text=row.text, kind=row.kind, counts_for_csi=row.counts_for_csi
                        ).pk
                    )
            elif row.remove:
                survey_question_remove(question=own[row.id], by=by)
            else:
                survey_question_update(
                    question=own[row.id], by=by, text=row.text, kind=row.kind, counts_for_csi=row.counts_for_csi
                )
                order.append(row.id)
        except Conflict as exc:
            errors[f"questions-{index}-text"] = [str(exc.message)]
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"questions-{index}-{field if field in QUESTION_FIELDS else 'text'}"] = messages
    if errors:
        raise ValidationError(errors)
    # Rows the form did not send (a question added elsewhere meanwhile) keep their place after the ones it did.
    order += [pk for pk in SurveyQuestion.objects.filter(survey=survey).values_list("pk", flat=True) if pk not in order]
    survey_questions_reorder(survey=survey, by=by, order=order)
    return survey


@transaction.atomic
def survey_activate(*, survey: Survey, by: User) -> Survey:
    """Put this survey in use for the follow-up calls; the one in use before is retired in the same transaction, so
    a call never finds two surveys in use, or none in between."""
    # Every survey row is locked in id order: two heads activating different surveys at once queue here instead of
    # one of them hitting the one-active constraint.
    surveys = {s.pk: s for s in Survey.objects.select_for_update().order_by("pk")}
    survey = surveys.get(survey.pk) or Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.is_active:
        return survey
    if not survey.questions.exists():
        raise ValidationError({"questions": _("Add at least one question before putting the survey in use.")})
    for other in surveys.values():
        if other.is_active and other.pk != survey.pk:
            other.is_active = False
            _save_survey(other, by=by, reason="replaced")
    survey.is_active = True
    try:
        with transaction.atomic():
            _save_survey(survey, by=by, reason="activated")
    except IntegrityError as exc:
        raise Conflict(_("Another survey was put in use a moment ago; reload and try again.")) from exc
    return survey


@transaction.atomic
def survey_deactivate(*, survey: Survey, by: User) -> Survey:
    """Stop using the survey: follow-up calls then ask no questions until another is put in use."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.is_active:
        survey.is_active = False
        _save_survey(survey, by=by, reason="deactivated")
    return survey


# --- reports --------------------------------------------------------------------------------------------------------


def surveys_with_counts():
    """Surveys with `question_count` and `response_count`, counted per survey shown (correlated subqueries)."""

    def count(model, **link):
        rows = model.objects.filter(**link).order_by().values(*link).annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    return Survey.objects.annotate(
        question_count=count(SurveyQuestion, survey=OuterRef("pk")),
        response_count=count(SurveyResponse, survey=OuterRef("pk")),
    )


def _quantize(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def csi_report(*, now: datetime | None = None, months: int = 12, survey: Survey | None = None) -> dict:
    """CSI over the last `months` calendar months (this one included): overall, and per month in one aggregate query;
    with a survey, each of its questions' average too.

    `months` lists every month, oldest first, empty ones with csi None: {"month": date, "csi", "answered",
    "declined"}; a buyer who declined the survey counts in "declined", never in "answered" nor in the CSI. A
    question's `percent` is its average as a share of the best score (for yes/no: the share of "yes").
    """
    today = local_date(now or timezone.now())
    first = _month_start(today, months - 1)
    since = at(first, time.min)
    rows = (
        SurveyResponse.objects.filter(answered_at__gte=since)
        .annotate(month=TruncMonth("answered_at", tzinfo=local_zone()))
        .values("month")
        .annotate(
            total=Sum("csi"),
            scored=Count("csi"),
            answered=Count("pk", filter=Q(declined=False)),
            declined=Count("pk", filter=Q(declined=True)),
        )
        .order_by("month")
    )
    by_month = {}
    for row in rows:
        month = row["month"]
        key = timezone.localtime(month, local_zone()).date() if isinstance(month, datetime) else month
        by_month[key] = row
    series = []
    for back in range(months - 1, -1, -1):
        month = _month_start(today, back)
        row = by_month.get(month) or {"total": None, "scored": 0, "answered": 0, "declined": 0}
        csi = row["total"] / row["scored"] if row["scored"] else None
        series.append({"month": month, "csi": _quantize(csi), "answered": row["answered"], "declined": row["declined"]})
    total = sum(Decimal(r["total"]) for r in by_month.values() if r["total"] is not None)
    scored = sum(r["scored"] for r in by_month.values())
    report = {
        "since": first,
        "months": series,
        "csi": _quantize(total / scored) if scored else None,
        "answered": sum(r["answered"] for r in by_month.values()),
        "declined": sum(r["declined"] for r in by_month.values()),
        "questions": [],
    }
    if survey is not None:
        report["questions"] = _question_averages(survey, since=since)
    return report


def _question_averages(survey: Survey, *, since: datetime) -> list[dict]:
    stats = {
        row["question"]: row
        for row in SurveyAnswer.objects.filter(question__survey=survey, response__answered_at__gte=since)
        .values("question")
        .annotate(average=Avg("score"), scored=Count("score"), texts=Count("pk", filter=~Q(text="")))
        .order_by()
    }
    result = []
    for question in survey.questions.all():
        row = stats.get(question.pk, {"average": None, "scored": 0, "texts": 0})
        average = row["average"]
        percent = 100 * Decimal(average) / question.max_score if average is not None and question.max_score else None
        result.append(
            {
                "question": question,
                "average": None if average is None else Decimal(average).quantize(Decimal("0.01")),
                "percent": _quantize(percent),
                "answered": row["scored"] if question.max_score is not None else row["texts"],
            }
        )
    return result
