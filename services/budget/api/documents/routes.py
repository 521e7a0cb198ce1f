"""Invoices, receipts and evidence of purchase for a request: uploaded, listed, downloaded."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from services.budget.adapters.documents import DocumentStore
from services.budget.api.documents.schemas import UPLOAD_DOC, DocumentSchema
from services.budget.domain.documents import MAX_BYTES, TooLarge
from services.budget.registry import budget_services
from services.budget.service_layer import documents as svc
from shared.app import current_identity, database
from shared.openapi import refusal

blp = Blueprint(
    "documents",
    __name__,
    url_prefix="",
    description="Invoices and receipts from providers, evidence of purchase from advisors.",
)
NO_REQUEST = refusal("No purchase request with that id that you may see.")
# Room for the multipart envelope around a file of the largest size allowed.
ENVELOPE = 64 * 1024


def store() -> DocumentStore:
    return budget_services().documents


@blp.route("/requests/<request_id>/documents")
class RequestDocuments(MethodView):
    @blp.response(200, DocumentSchema(many=True))
    @blp.doc(responses={"404": NO_REQUEST})
    def get(self, request_id):
        """The request's documents (its provider, the advisor, finance, admin)"""
        return svc.list_for_request(database(), current_identity(), request_id)

    @blp.response(201, DocumentSchema)
    @blp.doc(**UPLOAD_DOC)
    @blp.doc(
        responses={
            "404": NO_REQUEST,
            "413": refusal("The file is larger than 5 MB; nothing is stored."),
            "415": refusal(
                "The file is not a PDF, JPEG or PNG, or its content is not the type it says;"
                " nothing is stored."
            ),
        }
    )
    def post(self, request_id):
        """Upload an invoice or receipt (provider) or evidence of purchase (advisor): PDF, JPEG, PNG"""
        request.max_content_length = MAX_BYTES + ENVELOPE
        try:
            upload = request.files.get("file")
            kind = request.form.get("kind", "")
        except RequestEntityTooLarge:
            raise TooLarge(
                f"A file can be at most {MAX_BYTES // (1024 * 1024)} MB.",
                errors={"file": [f"At most {MAX_BYTES} bytes."]},
            ) from None
        body = upload.read(MAX_BYTES + 1) if upload is not None else b""
        return svc.upload(
            database(),
            store(),
            current_identity(),
            request_id,
            kind=kind,
            filename=upload.filename if upload is not None else None,
            declared_type=upload.mimetype if upload is not None else None,
            body=body,
        )


@blp.route("/documents/<document_id>")
class DocumentFile(MethodView):
    @blp.response(200, description="The file, as an attachment, in its stored type")
    @blp.doc(
        responses={
            "200": {
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("application/pdf", "image/jpeg", "image/png")
                }
            }
        }
    )
    @blp.doc(responses={"404": refusal("No document with that id that you may see.")})
    def get(self, document_id):
        """Download a document (never shown as a page: an attachment of its stored type)"""
        found, body = svc.read(database(), store(), current_identity(), document_id)
        return Response(
            body,
            mimetype=found["content_type"],
            headers={
                "Content-Disposition": f'attachment; filename="{found["filename"]}"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
            },
        )
