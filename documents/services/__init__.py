"""Every write of the documents app. Other apps call these by name: `document_register` (its signature is stable),
`document_transition`, `document_upsert_dms`."""

from documents.services.documents import (
    allowed_steps,
    document_register,
    document_transition,
    document_update,
    document_upsert_dms,
)

__all__ = ["allowed_steps", "document_register", "document_transition", "document_update", "document_upsert_dms"]
