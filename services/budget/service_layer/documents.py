"""Invoices and receipts from providers, evidence of purchase from advisors: stored, listed, read.

The bytes go to the store before the record is written; if the record can't be written the bytes
are removed, so a refused upload leaves nothing behind. Only the request's own provider, the
advisor whose caseload it is on, finance and admins may read them.

Evidence of purchase (or a receipt) from someone who may evidence a request, uploaded once the
request is paid, moves it on to `evidenced` in the same transaction as the document's record:
conditional on it being `paid` then, so a request recovered or evidenced meanwhile is left as it
is (the document is still kept). Before payment the document is kept and the state is not
touched: the payment, when it comes, lands in `evidenced` (`evidence_on_payment`).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.documents import DocumentStore
from services.budget.adapters.orm import Document, PurchaseRequest
from services.budget.adapters.repository import SqlRequests
from services.budget.domain import documents as rules
from services.budget.domain import duties
from services.budget.domain import rules as life_cycle
from services.budget.service_layer.access import request_for, require
from shared.clock import utcnow
from shared.db import Database
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity

log = logging.getLogger(__name__)


def _request(session: Session, actor: Identity, request_id: str) -> PurchaseRequest:
    """The request, if the caller may see it: a provider only its own organisation's."""
    if actor.role == "provider":
        req = session.get(PurchaseRequest, request_id)
        if req is None or not actor.provider_id or req.provider_id != actor.provider_id:
            raise NotFound("No purchase request with that id for your organisation.")
        return req
    return request_for(session, actor, request_id)


def upload(
    db: Database,
    store: DocumentStore,
    actor: Identity,
    request_id: str,
    *,
    kind: str,
    filename: str | None,
    declared_type: str | None,
    body: bytes,
) -> dict[str, Any]:
    require(actor, *rules.UPLOADERS)
    if kind not in rules.KINDS:
        raise ValidationFailed(
            "Say what the file is.", errors={"kind": [f"One of: {', '.join(rules.KINDS)}."]}
        )
    rules.check_uploader(actor.role, kind)
    with db.session() as session:
        _request(session, actor, request_id)
    content_type = rules.check_file(body, declared_type)
    key = uuid.uuid4().hex
    store.put(key, body, content_type)
    try:
        with db.write() as session:
            # Locked first: a payment racing this upload either commits before it (and this
            # upload evidences the paid request) or waits for it (and sees this document).
            SqlRequests(session).lock(request_id)
            _request(session, actor, request_id)
            document = Document(
                id=str(uuid.uuid4()),
                request_id=request_id,
                kind=kind,
                content_type=content_type,
                size_bytes=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
                storage_key=key,
                filename=rules.display_name(filename, content_type),
                uploaded_by=actor.sub,
                uploaded_role=actor.role,
                uploaded_at=utcnow(),
            )
            session.add(document)
            session.flush()
            _evidence_purchase(session, actor, document)
            return view(document)
    except BaseException:
        _discard(store, key)
        raise


def _evidence_purchase(session: Session, actor: Identity, document: Document) -> None:
    """A paid request with evidence of purchase is evidenced: only from `paid`, decided by the update."""
    if document.kind not in rules.EVIDENCE_KINDS:
        return
    if actor.role not in duties.ACTION_ROLES["evidence"]:
        return
    requests = SqlRequests(session)
    note = f"Evidence of purchase uploaded: {document.filename}"
    changed = requests.change_state(
        document.request_id, life_cycle.PAID, life_cycle.EVIDENCED, {"evidence_note": note}
    )
    if changed is not None:
        requests.record(
            document.request_id,
            life_cycle.PAID,
            life_cycle.EVIDENCED,
            actor,
            note,
            {"document_id": document.id},
        )


def _discard(store: DocumentStore, key: str) -> None:
    """Remove bytes whose record was not written; if the store is down too, say so and go on
    (`sweep` removes them later)."""
    try:
        store.delete(key)
    except Exception:
        log.warning("document bytes %s left in the store with no record", key, exc_info=True)


SWEEP_BATCH = 500


def sweep(
    db: Database, store: DocumentStore, *, older_than: timedelta, now: datetime | None = None
) -> list[str]:
    """Delete the stored bytes that no document records and that were written before `older_than`
    ago: what an upload left when its record failed and so did removing its bytes. The bytes of an
    upload still in progress are younger than any sensible `older_than` (minutes), so never swept.
    """
    if older_than < timedelta(0):
        raise ValueError("older_than is a length of time, not negative")
    moment = (now or utcnow()) - older_than
    swept: list[str] = []
    batch: list[str] = []
    for key in store.keys_before(moment):
        batch.append(key)
        if len(batch) >= SWEEP_BATCH:
            swept += _sweep_batch(db, store, batch)
            batch = []
    if batch:
        swept += _sweep_batch(db, store, batch)
    return swept


def _sweep_batch(db: Database, store: DocumentStore, keys: list[str]) -> list[str]:
    with db.session() as session:
        recorded = set(
            session.scalars(select(Document.storage_key).where(Document.storage_key.in_(keys)))
        )
    orphans = [key for key in keys if key not in recorded]
    for key in orphans:
        store.delete(key)
        log.info("swept document bytes %s: no record", key)
    return orphans


def list_for_request(db: Database, actor: Identity, request_id: str) -> list[dict[str, Any]]:
    require(actor, *rules.READERS)
    with db.session() as session:
        _request(session, actor, request_id)
        rows = session.scalars(
            select(Document)
            .where(Document.request_id == request_id)
            .order_by(Document.uploaded_at, Document.id)
        )
        return [view(d) for d in rows]


def read(
    db: Database, store: DocumentStore, actor: Identity, document_id: str
) -> tuple[dict[str, Any], bytes]:
    """The document's record and bytes, if the caller may see its request."""
    require(actor, *rules.READERS)
    with db.session() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFound("No document with that id.")
        try:
            _request(session, actor, document.request_id)
        except NotFound:
            raise NotFound("No document with that id.") from None
        found = view(document)
        key = document.storage_key
    return found, store.get(key)


def view(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "request_id": document.request_id,
        "kind": document.kind,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "filename": document.filename,
        "uploaded_by": document.uploaded_by,
        "uploaded_at": document.uploaded_at,
    }
