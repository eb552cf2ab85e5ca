import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from accounts.roles import Role
from accounts.services.users import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def test_sign_in_and_out(web, manager):
    response = web.post(reverse("accounts:login"), {"username": "manager", "password": "Secret-pass-123"})
    assert response.status_code == 302
    assert web.get(reverse("clients:search")).status_code == 200
    web.post(reverse("accounts:logout"))
    assert web.get(reverse("clients:search")).status_code == 302


def test_wrong_password_is_a_form_error(web, manager):
    response = web.post(reverse("accounts:login"), {"username": "manager", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_change(as_manager, manager):
    response = as_manager.post(
        reverse("accounts:password-change"),
        {"old_password": "Secret-pass-123", "new_password1": "Another-pass-456", "new_password2": "Another-pass-456"},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("Another-pass-456")


def test_head_creates_a_manager(as_head, head):
    response = as_head.post(
        reverse("accounts:user-create"),
        {
            "username": "newbie",
            "last_name": "Новикова",
            "first_name": "Анна",
            "email": "",
            "role": Role.MANAGER,
            "password1": "Strong-pass-2026",
            "password2": "Strong-pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == Role.MANAGER and user.check_password("Strong-pass-2026")
    assert user.history.get().history_user == head


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "x", "role": "manager", "password1": "", "password2": ""}, "password1"),
        ({"username": "x", "role": "manager", "password1": "Strong-pass-2026", "password2": "other"}, "password2"),
        ({"username": "x", "role": "manager", "password1": "123", "password2": "123"}, "password1"),
        (
            {"username": "head", "role": "manager", "password1": "Strong-pass-2026", "password2": "Strong-pass-2026"},
            "username",
        ),
        ({"username": "x", "role": "king", "password1": "Strong-pass-2026", "password2": "Strong-pass-2026"}, "role"),
    ],
)
def test_bad_new_user_is_refused(as_head, data, field):
    before = User.objects.count()
    response = as_head.post(reverse("accounts:user-create"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.count() == before


def test_integration_user_gets_no_password(as_head):
    as_head.post(reverse("accounts:user-create"), {"username": "dms2", "role": Role.INTEGRATION})
    assert not User.objects.get(username="dms2").has_usable_password()


def test_head_re_roles_and_deactivates(as_head, manager):
    url = reverse("accounts:user-detail", args=[manager.pk])
    data = {
        "last_name": manager.last_name,
        "first_name": manager.first_name,
        "email": "",
        "role": Role.HEAD,
        "is_active": "on",
    }
    assert as_head.post(url, data).status_code == 302
    manager.refresh_from_db()
    assert manager.role == Role.HEAD
    data.pop("is_active")
    assert as_head.post(url, data).status_code == 302
    manager.refresh_from_db()
    assert not manager.is_active


def test_head_cannot_deactivate_or_demote_themselves(as_head, head):
    url = reverse("accounts:user-detail", args=[head.pk])
    response = as_head.post(
        url, {"last_name": "x", "first_name": "y", "email": "", "role": Role.MANAGER, "is_active": "on"}
    )
    assert response.status_code == 400
    head.refresh_from_db()
    assert head.role == Role.HEAD


def test_api_key_lifecycle(as_head, integration):
    response = as_head.post(reverse("accounts:apikey-create", args=[integration.pk]), {"name": "DMS production"})
    assert response.status_code == 200
    raw = response.context["raw_key"]
    key = ApiKey.objects.get()
    assert key.digest != raw and raw not in key.digest  # stored hashed
    assert raw.startswith(f"cd_{key.prefix}_")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/clients/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None

    as_head.post(reverse("accounts:apikey-revoke", args=[key.pk]))
    assert api.get("/api/v1/clients/").status_code == 401


def test_api_keys_only_for_integration_users_and_names_are_unique(head, manager, integration):
    with pytest.raises(Exception, match="integration users"):
        api_key_create(user=manager, name="x", by=head)
    api_key_create(user=integration, name="DMS", by=head)
    with pytest.raises(Exception, match="already has an active key"):
        api_key_create(user=integration, name="DMS", by=head)


def test_wrong_and_revoked_keys_are_401(head, integration):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Api-Key cd_nope_nope")
    assert api.get("/api/v1/clients/").status_code == 401
    api_key_revoke(key=key, by=head)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/clients/").status_code == 401


def test_deactivating_the_integration_user_revokes_its_keys(as_head, head, integration):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    url = reverse("accounts:user-detail", args=[integration.pk])
    as_head.post(url, {"last_name": "", "first_name": "", "email": "", "role": Role.INTEGRATION})
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_at <= timezone.now()


def test_the_navigation_offers_each_role_its_own_pages_and_the_user_menu(as_manager, as_head):
    manager_page = as_manager.get(reverse("clients:search")).content.decode()
    head_page = as_head.get(reverse("clients:search")).content.decode()
    for page in (manager_page, head_page):
        # Password, API documentation and sign-out live in the user's menu, so the bar fits in either language.
        assert 'id="user-menu"' in page
        assert f'action="{reverse("accounts:logout")}"' in page
        assert reverse("accounts:password-change") in page
        assert reverse("api-docs") in page
    head_only = [reverse("accounts:user-list"), reverse("clients:duplicates"), reverse("calls:head-tasks")]
    assert all(url in head_page for url in head_only)
    assert not any(url in manager_page for url in head_only)
