"""Staff names are cleaned like clients' names: invisible characters pasted along are dropped, and a name that is
nothing but them is refused (issue 9, item 8)."""

import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from accounts.services.users import user_create, user_update


@pytest.mark.django_db
def test_invisible_characters_are_dropped_from_staff_names(head):
    user = user_create(
        by=head, username="anna", role=Role.MANAGER, first_name="\u200bАнна\u200d", last_name=" Петрова\u2060 "
    )

    assert (user.first_name, user.last_name) == ("Анна", "Петрова")


@pytest.mark.django_db
def test_a_name_of_only_invisible_characters_is_refused(head, manager):
    with pytest.raises(ValidationError) as refused:
        user_update(user=manager, by=head, first_name="\u200b\u200b", last_name="\x00")

    assert set(refused.value.message_dict) == {"first_name", "last_name"}
    manager.refresh_from_db()
    assert manager.first_name == "Мария"


@pytest.mark.django_db
def test_an_empty_name_stays_allowed_for_staff(head):
    assert user_create(by=head, username="svc", role=Role.MANAGER, first_name="", last_name="").first_name == ""
