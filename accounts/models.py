import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability, Role, capabilities_for


class SecurityEventKind(models.TextChoices):
    """What the head did to a user's sign-in, kept as the reason of a row in the user's history."""

    UNLOCKED = "unlocked", _("Sign-in unlocked")
    RESET_LINK_SENT = "reset-link-sent", _("Password reset link sent")


class User(AbstractUser):
    """A member of staff, or an integration (the DMS) that only talks to the API."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]
        indexes = [models.Index(fields=["role", "is_active"], name="user_role_active_idx")]

    def __str__(self) -> str:
        return self.name_of(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_of(first_name: str, last_name: str, username: str) -> str:
        """How a user is named to people, from the columns: the full name, or the username without one (also for rows
        read as values())."""
        return f"{first_name} {last_name}".strip() or username

    @staticmethod
    def name_expression(path: str):
        """`str(user)` in SQL, for the user at `path` (e.g. "manager"): the full name, or the username without one."""
        full = Trim(Concat(f"{path}__first_name", Value(" "), f"{path}__last_name"))
        return Coalesce(NullIf(full, Value("")), f"{path}__username")

    @cached_property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_for(role=self.role, is_superuser=self.is_superuser, is_active=self.is_active)

    def has_capability(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def is_integration(self) -> bool:
        return self.role == Role.INTEGRATION


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiKey(models.Model):
    """A named secret an integration sends as `Authorization: Api-Key <key>`.

    Only a SHA-256 digest is stored: the key is 256 random bits, so a slow password hash would add nothing but
    latency to every request. The full key is shown once, when it is made.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    scopes = models.JSONField(
        _("scopes"),
        default=list,
        blank=True,
        help_text=_("What the key may do: some of its user's capabilities (read clients, write clients…); empty: all."),
    )
    rate_per_minute = models.PositiveIntegerField(
        _("requests a minute"),
        null=True,
        blank=True,
        help_text=_("Past this many requests in a minute the key is answered 429; empty: the site's default."),
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], condition=Q(revoked_at__isnull=True), name="apikey_active_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate(cls) -> tuple[str, str]:
        """A fresh (prefix, raw key) pair; the prefix lets people tell keys apart without revealing them."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        return prefix, f"cd_{prefix}_{secrets.token_urlsafe(32)}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, capability: str) -> bool:
        """Whether a request made with this key may use `capability` (its user must have it as well)."""
        return not self.scopes or capability == Capability.USE_API or capability in self.scopes

    # The capabilities a key can be limited to, as people read them (what an integration would ask for).
    SCOPES = (
        Capability.VIEW_CLIENTS,
        Capability.EDIT_CLIENTS,
        Capability.VIEW_BOOKINGS,
        Capability.EDIT_BOOKINGS,
        Capability.VIEW_CALLS,
        Capability.LOG_CALLS,
        Capability.MANAGE_RECALLS,
        Capability.VIEW_RECEPTION,
        Capability.VIEW_DEPARTMENT_FIGURES,
        Capability.VIEW_CLAIMS,
        Capability.VIEW_DOCUMENTS,
        Capability.EDIT_DOCUMENTS,
        Capability.VIEW_FLEET,
    )


class AbsenceQuerySet(models.QuerySet):
    def on(self, day):
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Absence(models.Model):
    """A member of staff away (holiday, sick leave); meanwhile their call tasks go to the substitute."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("substitute"), on_delete=models.PROTECT, related_name="substitutions"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    history = HistoricalRecords()
    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")),
                name="absence_dates_ordered",
                violation_error_message=_("An absence ends on or after its first day."),
            ),
            models.CheckConstraint(
                condition=~Q(substitute=models.F("user")),
                name="absence_substitute_is_someone_else",
                violation_error_message=_("Someone else must stand in."),
            ),
        ]
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"], name="absence_user_dates_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on:%d.%m}–{self.ends_on:%d.%m.%Y}"
