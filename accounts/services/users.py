"""Every write to users and API keys."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.key_cache import forget_keys
from accounts.models import ApiKey, User
from accounts.roles import Role
from clientdesk.text import normalize_name


def _names(**names: str) -> dict[str, str]:
    """First and last names without the invisible characters pasted along with them; refused when only those."""
    cleaned, errors = {}, {}
    for field, raw in names.items():
        try:
            cleaned[field] = normalize_name(raw, required=False)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
) -> User:
    first_name, last_name = _names(first_name=first_name, last_name=last_name).values()
    user = User(username=username, role=role, first_name=first_name, last_name=last_name, email=email)
    if password and role != Role.INTEGRATION:
        user.set_password(password)
    else:
        # Integration users never sign in to pages: they hold API keys.
        user.set_unusable_password()
    user.full_clean()
    user._history_user = by
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields) -> User:
    allowed = {"first_name", "last_name", "email", "role", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"user_update cannot change {sorted(unknown)}")
    fields.update(_names(**{name: fields[name] for name in ("first_name", "last_name") if name in fields}))
    if user.pk == by.pk and (fields.get("is_active") is False or fields.get("role", user.role) != user.role):
        raise ValidationError(_("You cannot deactivate yourself or change your own role."))
    for name, value in fields.items():
        setattr(user, name, value)
    if user.role == Role.INTEGRATION and user.has_usable_password():
        user.set_unusable_password()
    user.full_clean()
    user._history_user = by
    user.save()
    if not user.is_active:
        keys = ApiKey.objects.filter(user=user, revoked_at__isnull=True)
        forget_keys(keys.values_list("digest", flat=True))  # an UPDATE sends no signal to the keys' cache
        keys.update(revoked_at=timezone.now())
    return user


@transaction.atomic
def api_key_create(
    *, user: User, name: str, by: User, scopes: Iterable[str] = (), rate_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    """A new key for an integration user; returns the key row and the raw key, which is shown only now. `scopes`
    limit what the key may do to some of its user's capabilities (none: all of them); `rate_per_minute` its
    requests a minute (none: the site's default)."""
    if user.role != Role.INTEGRATION:
        raise ValidationError(_("API keys are for integration users; staff use the API with their session."))
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the key after where it is used, e.g. 'DMS production'.")})
    if ApiKey.objects.active().filter(user=user, name=name).exists():
        raise ValidationError({"name": _("This user already has an active key with this name.")})
    scopes = sorted(set(scopes))
    if unknown := [s for s in scopes if s not in ApiKey.SCOPES or not user.has_capability(s)]:
        raise ValidationError(
            {"scopes": _("Not a scope this user can have: %(scopes)s.") % {"scopes": ", ".join(unknown)}}
        )
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValidationError({"rate_per_minute": _("At least one request a minute.")})
    prefix, raw = ApiKey.generate()
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=ApiKey.digest_of(raw),
        created_by=by,
        scopes=scopes,
        rate_per_minute=rate_per_minute,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by: User) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
