"""Evidence of purchase uploaded before the request was paid: the payment lands in `evidenced`.

The life cycle goes paid -> evidenced. Evidence (or a receipt) from someone who may evidence a
request can arrive first (the advisor photographs the bike before finance pays); then the request,
once paid, is evidenced in the same transaction as the payment, by the same conditional change
(`paid` to `evidenced`, decided by the update) an upload after payment makes. An upload locks
the request before recording its document, so an upload and a payment racing each other are
ordered by that lock: whichever commits second sees the other's work.
"""

from __future__ import annotations

from typing import Any

from services.budget.adapters.orm import PurchaseRequest
from services.budget.domain import documents, duties
from services.budget.domain import rules as life_cycle
from services.budget.service_layer.unit_of_work import Requests
from shared.identity import Identity

EVIDENCERS = tuple(duties.ACTION_ROLES["evidence"])


def evidence_paid(requests: Requests, request_ids: Any, paid_by: Identity) -> list[PurchaseRequest]:
    """Move each just-paid request of `request_ids` (a list or a subquery) that already has
    evidence of purchase on to `evidenced`; the requests changed."""
    changed = []
    for document in requests.evidence_of(request_ids, documents.EVIDENCE_KINDS, EVIDENCERS):
        note = f"Evidence of purchase uploaded before payment: {document.filename}"
        req = requests.change_state(
            document.request_id, life_cycle.PAID, life_cycle.EVIDENCED, {"evidence_note": note}
        )
        if req is None:  # not paid by this payment (or moved on): left as it is
            continue
        uploader = Identity(sub=document.uploaded_by, role=document.uploaded_role)
        requests.record(
            req.id,
            life_cycle.PAID,
            life_cycle.EVIDENCED,
            uploader,
            note,
            {"document_id": document.id, "on_payment_by": paid_by.sub},
        )
        changed.append(req)
    return changed
