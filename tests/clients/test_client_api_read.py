"""The API's lean read of clients answers exactly what DRF's ModelSerializer would."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from clients.api.clients import ClientSerializer
from clients.models import Client
from clients.services.clients import client_merge
from tests.factories import PhoneFactory, client_with_phone

pytestmark = pytest.mark.django_db


class PlainClientSerializer(ClientSerializer):
    """The same fields through ModelSerializer's own field-by-field answer."""

    to_representation = serializers.ModelSerializer.to_representation


def test_lean_read_answers_as_the_model_serializer(manager, head):
    ivanov = client_with_phone(
        "+79123456789",
        name="Иванов Иван",
        email="ivanov@example.ru",
        dms_id="DMS-1",
        assigned_manager=manager,
        consent_personal_data=True,
        consent_personal_data_at=timezone.now() - timedelta(days=3),
    )
    PhoneFactory(client=ivanov, number="+74951234567", is_primary=False, comment="рабочий")
    bare = client_with_phone("+79990001122", name="Петров")
    duplicate = client_with_phone("+79990001133", name="Петров (дубль)")
    client_merge(source=duplicate, target=bare, by=head)

    for client in Client.objects.prefetch_related("phones").order_by("id"):
        lean, plain = ClientSerializer(client).data, PlainClientSerializer(client).data
        assert lean == plain
        assert list(lean) == list(plain)  # the same keys in the same order
    many = ClientSerializer(Client.objects.prefetch_related("phones").order_by("id"), many=True).data
    assert [c["merged_into"] for c in many] == [None, None, bare.pk]
