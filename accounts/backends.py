"""The sign-in backend: Django's ModelBackend, with the user that every request looks up (`get_user`) kept in the
shared cache (accounts.caching). Saving or deleting a user removes the entry at once and again when the transaction
commits (a request between the two would otherwise cache the row as it was), so a deactivation or a new password
ends that user's sessions on their next request, as without the cache. One race is left, bounded by the entry's
lifetime (AUTH_CACHE_SECONDS): a request of that same user that read the row just before the change committed and
writes it to the cache just after the removal keeps the old row there until it expires."""

import hashlib

from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.caching import cache_delete, cache_get, cache_set, timeout
from accounts.models import User

# The columns in the key: a deploy that changes them never unpickles a user of the old shape.
_SHAPE = hashlib.md5(  # noqa: S324 - a fingerprint, not security
    ",".join(field.attname for field in User._meta.concrete_fields).encode()
).hexdigest()[:8]


def user_cache_key(user_id) -> str:
    return f"clientdesk.user.{_SHAPE}.{user_id}"


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        key = user_cache_key(user_id)
        user = cache_get(key)
        if not isinstance(user, User):
            try:
                user = User._default_manager.get(pk=user_id)
            except (User.DoesNotExist, ValueError):
                return None
            cache_set(key, user, timeout())
        return user if self.user_can_authenticate(user) else None


def forget_user(user_id) -> None:
    key = user_cache_key(user_id)
    cache_delete(key)
    transaction.on_commit(lambda: cache_delete(key))


@receiver(post_save, sender=User, dispatch_uid="clientdesk-forget-saved-user")
@receiver(post_delete, sender=User, dispatch_uid="clientdesk-forget-deleted-user")
def _forget_changed_user(sender, instance, **kwargs) -> None:
    forget_user(instance.pk)
