"""Reads of the documents app shaped for pages, the API and other apps."""

from documents.models import Document


def is_signed(document: Document) -> bool:
    """Whether the paper carries the client's signature (signed, or further on: at accounting, in the archive).
    Reads the row afresh, so a caller holding an old instance gets today's answer."""
    state = Document.objects.filter(pk=document.pk).values_list("state", flat=True).first()
    return state in Document.SIGNED_STATES
