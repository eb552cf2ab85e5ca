"""The categories the consumer-rights law sets (the head may change their terms and add others)."""

from django.db import migrations

CATEGORIES = [
    ("refund", "Возврат денег или уменьшение цены", 10, False, None, "ст. 22, 31 Закона РФ «О защите прав потребителей»", 10),
    ("replacement", "Замена товара", 7, False, None, "ст. 21 Закона РФ «О защите прав потребителей»", 20),
    (
        "replacement_check",
        "Замена товара с проверкой качества",
        20,
        False,
        None,
        "ст. 21 Закона РФ «О защите прав потребителей»",
        30,
    ),
    (
        "defect",
        "Устранение недостатка",
        45,
        True,
        45,
        "ст. 20 Закона РФ «О защите прав потребителей»: срок, согласованный письменно, не более 45 дней",
        40,
    ),
    ("other", "Прочее", 10, False, None, "Стандарт компании", 90),
]


def add_categories(apps, schema_editor):
    ClaimCategory = apps.get_model("claims", "ClaimCategory")
    for code, name, term, agreed, maximum, basis, order in CATEGORIES:
        ClaimCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "term_days": term,
                "term_agreed": agreed,
                "max_term_days": maximum,
                "basis": basis,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
