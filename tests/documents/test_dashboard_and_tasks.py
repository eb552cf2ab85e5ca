from datetime import date, timedelta

from django.utils import timezone

from clientdesk.dashboard import head_tiles
from documents import tasks
from documents.dashboard import documents_tile
from documents.models import Correspondence, Document
from documents.services import document_register
from documents.services.mail import mail_register


def rows_behind(web, url) -> int:
    response = web.get(url)
    assert response.status_code == 200, url
    return len(response.context["page"])


def test_the_heads_tile_counts_what_its_lists_show(delivery, head, manager, as_head):
    document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    # our copy of a claim answer is on file too, and is no sale paper the head waits for
    document_register(by=manager, kind="claim_answer", issued_on=date(2026, 11, 2), delivery=delivery)
    old = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Старое")
    Correspondence.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Новое")
    figures = {f.key: f for f in documents_tile(head).figures}
    assert (figures["documents-late"].value, figures["documents-mail"].value, figures["documents-drafts"].value) == (
        3,
        1,
        1,
    )
    for figure in figures.values():
        assert rows_behind(as_head, figure.url) == figure.value, figure.key
    assert "documents" in head_tiles.keys()


def test_the_beat_tasks_flag_once(delivery, head):
    assert tasks.flag_late_papers() == 1
    assert tasks.flag_late_papers() == 0
    assert tasks.flag_unhanded_mail() == 0
    assert Document.objects.filter(delivery=delivery, state="expected").count() == 3
