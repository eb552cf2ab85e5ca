"""seed_documents: the paper's demo goes through the services, shows what each page flags, and adds nothing when run
again."""

import pytest
from django.core.management.base import CommandError

from documents.models import Correspondence, Document, Registry
from documents.services.expected import flag_late_papers
from documents.services.mail import flag_unhanded_mail
from tests.commands import run


def test_needs_the_demo_department_first(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_documents")


def test_the_documents_demo_is_loaded_once(db):
    run("seed_demo")
    run("seed_workshop")
    run("seed_demo_work")
    output = run("seed_documents")
    assert "Documents demo" in output
    assert Registry.objects.filter(state="received", destination="accounting").exists()
    assert Registry.objects.filter(state="sent", destination="archive").exists()
    assert Document.objects.filter(state__in=["draft", "approved"]).count() == 2
    assert Document.objects.filter(state="lost").count() == 1
    assert Document.objects.filter(state="at_accounting").exists()
    assert Document.objects.filter(state="archived", archive_box="К-2026-01").exists()
    assert flag_unhanded_mail() == 1
    assert flag_late_papers() >= 0
    counts = (Document.objects.count(), Registry.objects.count(), Correspondence.objects.count())
    assert "no documents demo added" in run("seed_documents")
    assert (Document.objects.count(), Registry.objects.count(), Correspondence.objects.count()) == counts
