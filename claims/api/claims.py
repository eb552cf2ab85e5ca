"""The claims API: the list with the page's filters and cursor pagination, create, read, and each step as an action
(POST .../escalate/, decide/, inform-call/, letter-sent/, close/, reopen/, review/, category/). An illegal step
answers 409 and changes nothing. The same services as the pages."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from bookings.models import Booking
from calls.models import Call
from claims import services
from claims.filters import ClaimFilter
from claims.models import Claim, ClaimCategory
from claims.selectors import due_bounds
from clientdesk.api import BaseViewSet, VisibleRelatedField
from clientdesk.pagination import IdCursorPagination
from clients.models import Client, Delivery, Vehicle
from fleet.models import Reservation


class ClaimPagination(IdCursorPagination):
    """Soonest due first, then by id: the page the list shows by default, at the same cost at any depth."""

    ordering = ("due_date", "id")


class ClaimSerializer(serializers.ModelSerializer):
    category_code = serializers.CharField(source="category.code", read_only=True)
    due_state = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "number",
            "client",
            "vehicle",
            "booking",
            "delivery",
            "source_call",
            "loaner",
            "kind",
            "channel",
            "received_at",
            "client_words",
            "demand",
            "category",
            "category_code",
            "agreed_term_days",
            "due_date",
            "due_state",
            "status",
            "assignee",
            "escalated_to",
            "outcome",
            "compensation_kind",
            "compensation_amount",
            "decision_text",
            "decided_by",
            "decided_at",
            "informed_via",
            "informed_call",
            "informed_at",
            "answer_document",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_due_state(self, claim) -> str:
        return self.context["bounds"].state(claim)


class ClaimInputSerializer(serializers.Serializer):
    # Each linked record among those the sender may see: an id it may not read answers "does not exist".
    client = VisibleRelatedField(queryset=Client.objects.all())
    category = serializers.SlugRelatedField(slug_field="code", queryset=ClaimCategory.objects.filter(is_active=True))
    client_words = serializers.CharField(max_length=10_000)
    demand = serializers.CharField(max_length=10_000)
    kind = serializers.ChoiceField(choices=Claim.Kind.choices, default=Claim.Kind.ORAL)
    channel = serializers.ChoiceField(choices=Claim.Channel.choices, default=Claim.Channel.PHONE)
    received_at = serializers.DateTimeField(required=False)
    agreed_term_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=366)
    vehicle = VisibleRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    booking = VisibleRelatedField(queryset=Booking.objects.all(), required=False, allow_null=True)
    delivery = VisibleRelatedField(queryset=Delivery.objects.all(), required=False, allow_null=True)
    source_call = VisibleRelatedField(queryset=Call.objects.all(), required=False, allow_null=True)
    loaner = VisibleRelatedField(queryset=Reservation.objects.all(), required=False, allow_null=True)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EscalateSerializer(CommentSerializer):
    to = serializers.ChoiceField(choices=Claim.Department.choices)


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Claim.Outcome.choices)
    decision_text = serializers.CharField(max_length=10_000)
    compensation_kind = serializers.ChoiceField(
        choices=Claim.CompensationKind.choices, required=False, allow_blank=True, default=""
    )
    compensation_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class InformCallSerializer(serializers.Serializer):
    call = VisibleRelatedField(
        queryset=Call.objects.all(), required=False, help_text=_("A call already logged with the client.")
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Or: log the call now with these notes.")
    )

    def validate(self, attrs):
        if not attrs.get("call") and not attrs.get("notes", "").strip():
            raise serializers.ValidationError({"call": _("Give the logged call, or the notes of the call to log.")})
        return attrs


class LetterSentSerializer(CommentSerializer):
    sent_on = serializers.DateField(required=False, allow_null=True, default=None)


class ClaimReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CategoryChangeSerializer(ClaimReasonSerializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=ClaimCategory.objects.filter(is_active=True))
    agreed_term_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=366)


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = Claim.objects.all()
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    pagination_class = ClaimPagination
    read_capability = Capability.VIEW_CLAIMS
    write_capability = Capability.WORK_CLAIMS
    action_capabilities = {
        "decide": Capability.DECIDE_CLAIMS,
        "reopen": Capability.MANAGE_CLAIMS,
    }

    def get_queryset(self):
        return super().get_queryset().select_related("category")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request.claim_bounds = due_bounds()  # read lazily, once, by the filter and the rows' due states

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "bounds": getattr(self.request, "claim_bounds", None) or due_bounds(),
        }

    def output(self, claim, code=status.HTTP_200_OK):
        return Response(ClaimSerializer(claim, context=self.get_serializer_context()).data, status=code)

    def _data(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=ClaimInputSerializer, responses={201: ClaimSerializer})
    def create(self, request):
        data = self._data(ClaimInputSerializer)
        claim = services.claim_register(by=request.user, **data)
        return self.output(claim, status.HTTP_201_CREATED)

    @extend_schema(request=CommentSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        data = self._data(CommentSerializer)
        return self.output(services.claim_review(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=EscalateSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        data = self._data(EscalateSerializer)
        return self.output(services.claim_escalate(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=DecideSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        data = self._data(DecideSerializer)
        return self.output(services.claim_decide(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=InformCallSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], url_path="inform-call")
    def inform_call(self, request, pk=None):
        data = self._data(InformCallSerializer)
        claim = self.get_object()
        if data.get("call") is not None:
            return self.output(services.claim_inform_by_call(claim=claim, by=request.user, call=data["call"]))
        return self.output(services.claim_inform_with_new_call(claim=claim, by=request.user, notes=data["notes"]))

    @extend_schema(request=LetterSentSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], url_path="letter-sent")
    def letter_sent(self, request, pk=None):
        data = self._data(LetterSentSerializer)
        return self.output(services.claim_letter_sent(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=CommentSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = self._data(CommentSerializer)
        return self.output(services.claim_close(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=ClaimReasonSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        data = self._data(ClaimReasonSerializer)
        return self.output(services.claim_reopen(claim=self.get_object(), by=request.user, **data))

    @extend_schema(request=CategoryChangeSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def category(self, request, pk=None):
        data = self._data(CategoryChangeSerializer)
        return self.output(services.claim_change_category(claim=self.get_object(), by=request.user, **data))


class ClaimCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimCategory
        fields = ["id", "code", "name", "term_days", "term_agreed", "max_term_days", "basis", "is_active"]
        read_only_fields = fields


class ClaimCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The claim categories and their terms (read only: the head edits them on their page)."""

    queryset = ClaimCategory.objects.order_by("order", "id")
    serializer_class = ClaimCategorySerializer
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_CLAIMS
