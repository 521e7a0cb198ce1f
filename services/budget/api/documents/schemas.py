"""Documents: an invoice, receipt or evidence of purchase, as stored."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.budget.domain.documents import KINDS, MAX_BYTES, SIGNATURES


class DocumentSchema(Schema):
    id = fields.String()
    request_id = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    content_type = fields.String(metadata={"enum": list(SIGNATURES)})
    size_bytes = fields.Integer()
    sha256 = fields.String()
    filename = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()


UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"PDF, JPEG or PNG, at most {MAX_BYTES} bytes; the "
                            "type is read from the content (415 if it is none of these or not "
                            "what its part's Content-Type says).",
                        },
                        "kind": {"type": "string", "enum": list(KINDS)},
                    },
                }
            }
        },
    }
}
