"""Export and import: the directory's own NDJSON records, and ORUK/HSDS services from other feeds.

Export writes one JSON object per line: every organisation (with its due diligence checks), then
every listing, each tagged with `record`. Import upserts by id; each record lands whole or not at
all (a savepoint per record), and the summary names every rejected record and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import Geocoder
from services.directory.adapters.orm import (
    DueDiligenceRecord,
    Organization,
    Service,
    TaxonomyTerm,
)
from services.directory.adapters.records import (
    CheckRecordSchema,
    ListingImportSchema,
    ProviderImportSchema,
)
from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import get_provider, valid_uuid
from services.directory.service_layer.listing_parts import apply_values, check_ages
from services.directory.service_layer.oruk_rows import page_records
from services.directory.service_layer.unit_of_work import UnitOfWork
from services.directory.service_layer.views import check_dict, listing_dict
from shared.errors import DomainError
from shared.identity import Identity
from shared.outbox import utcnow

COMPUTED = ("organization_name", "stale", "provider_state")


# Rows a page of the export reads at a time: memory stays bounded at any directory size.
EXPORT_PAGE = 500

ORG = Organization.__table__
CHECK = DueDiligenceRecord.__table__
SERVICE = Service.__table__
TERM = TaxonomyTerm.__table__


def organization_record(org: Any) -> dict[str, Any]:
    """An organisation with its checks (an ORM object or a record with the same attributes)."""
    return {
        "record": "organization",
        "id": org.id,
        "name": org.name,
        "description": org.description,
        "email": org.email,
        "website": org.website,
        "phone": org.phone,
        "works_with_children": org.works_with_children,
        "created_at": docs.iso_utc(org.created_at),
        "last_modified": docs.iso_utc(org.last_modified),
        "checks": [check_dict(r) for r in org.due_diligence],
    }


def service_record(service: Any) -> dict[str, Any]:
    """A listing as the API shows it, less what is computed (an ORM object or a record)."""
    body = listing_dict(service, provider=rules.DueDiligence("unchecked"))
    for key in COMPUTED:
        body.pop(key, None)
    return {"record": "service", **body, "created_at": docs.iso_utc(service.created_at)}


def export_lines(uow: UnitOfWork, page_size: int = EXPORT_PAGE) -> Iterator[str]:
    """Every organisation (with its checks) by id, then every listing by id, one JSON object a line.

    Read with Core in keyset pages, each page in a read session of its own that is closed before
    its lines are yielded: no ORM object is built and nothing is held across a yield. Building
    the whole directory as ORM objects crashed the process on CPython 3.11 (docs/operations.md,
    "A native crash in the directory"). Each page is read consistently; a record changed while a
    long export runs appears as its page found it (an import names a listing whose provider is
    missing)."""
    for read_page in (_organization_page, _service_page):  # providers first, then listings
        after = ""
        while True:
            with uow.read() as session:
                records = read_page(session, after, page_size)
            yield from (json.dumps(record, sort_keys=True) for record in records)
            if len(records) < page_size:
                break
            after = records[-1]["id"]


def _organization_page(session: Session, after: str, size: int) -> list[dict[str, Any]]:
    rows = session.execute(select(ORG).where(ORG.c.id > after).order_by(ORG.c.id).limit(size))
    orgs = {row.id: SimpleNamespace(**row._mapping, due_diligence=[]) for row in rows}
    if orgs:
        checks = (
            select(CHECK)
            .where(CHECK.c.organization_id.in_(list(orgs)))
            .order_by(CHECK.c.recorded_at, CHECK.c.id)
        )
        for row in session.execute(checks):
            orgs[row.organization_id].due_diligence.append(row)
    return [organization_record(org) for org in orgs.values()]


def _service_page(session: Session, after: str, size: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SERVICE).where(SERVICE.c.id > after).order_by(SERVICE.c.id).limit(size)
    ).all()
    # page_records reads a term's id, slug and position, as the ORM's terms relationship orders them
    terms = session.execute(select(TERM.c.id, TERM.c.slug, TERM.c.position))
    index = cast(dict[str, TaxonomyTerm], {row.id: row for row in terms})
    return [service_record(record) for record in page_records(session, rows, index)]


# ---- reading a feed ------------------------------------------------------------------------


def parse_feed(text: str) -> list[Any]:
    """Records from a JSON list, an ORUK page ({"contents": [...]}) or NDJSON."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return [_line(line) for line in stripped.splitlines() if line.strip()]
    if isinstance(data, list):
        return list(data)
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        return list(data["contents"])
    return [data]


def _line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        return {"_unreadable": f"Not JSON: {err.msg} (column {err.colno})."}


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "rejected": self.rejected}


def import_records(
    uow: UnitOfWork,
    geocoder: Geocoder,
    identity: Identity,
    records: Iterable[Any],
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Upsert each record in a savepoint of one transaction: it lands whole or is rejected."""
    return uow.run(lambda session: _import_all(session, geocoder, identity, records, progress))


def _import_all(
    session: Session,
    geocoder: Geocoder,
    identity: Identity,
    records: Iterable[Any],
    progress: Callable[[int], None] | None,
) -> ImportSummary:
    summary = ImportSummary()
    for number, record in enumerate(records, start=1):
        ident = record.get("id") if isinstance(record, dict) else None
        try:
            with session.begin_nested(), session.no_autoflush:
                created = _import_one(session, geocoder, identity, record)
            summary.created += int(created)
            summary.updated += int(not created)
        except (DomainError, ValidationError, KeyError, ValueError, TypeError) as err:
            summary.rejected.append({"line": number, "id": ident, "reason": _reason(err)})
        if progress:
            progress(1)
    return summary


def _reason(err: Exception) -> str:
    if isinstance(err, DomainError):
        detail = getattr(err, "detail", "") or str(err)
        errors = getattr(err, "errors", None)
        return f"{detail} {json.dumps(errors)}" if errors else str(detail)
    if isinstance(err, ValidationError):
        return f"Invalid fields: {json.dumps(err.messages, default=str)}"
    if isinstance(err, KeyError):
        return f"Missing field {err.args[0]!r}."
    return str(err) or type(err).__name__


def _import_one(session: Session, geocoder: Geocoder, identity: Identity, record: Any) -> bool:
    if not isinstance(record, dict):
        raise ValueError("A record must be a JSON object.")
    if "_unreadable" in record:
        raise ValueError(record["_unreadable"])
    kind = record.get("record")
    if kind == "organization":
        return _import_organization(session, record)
    if kind == "service":
        return _import_service(session, geocoder, identity, record)
    if kind is None and "name" in record:
        return _import_oruk_service(session, geocoder, identity, record)
    raise ValueError("Not an organisation or a service record.")


def _uuid(value: Any, name: str) -> str:
    if not isinstance(value, str) or not valid_uuid(value):
        raise ValueError(f"{name} must be a UUID.")
    return value


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _import_organization(session: Session, record: dict[str, Any]) -> bool:
    values = ProviderImportSchema().load(record)
    org = session.get(Organization, values["id"])
    created = org is None
    if org is None:
        org = Organization(id=values["id"])
        session.add(org)
    for key in ("name", "description", "email", "website", "phone", "works_with_children"):
        setattr(org, key, values.get(key))
    org.description = org.description or ""
    org.created_at = values.get("created_at") or org.created_at or utcnow()
    org.last_modified = values.get("last_modified") or utcnow()
    session.flush()
    existing = {r.id: r for r in org.due_diligence}
    for raw in values.get("checks", []):
        check = CheckRecordSchema().load(raw)
        rec = existing.get(check["id"]) or DueDiligenceRecord(
            id=check["id"], organization_id=org.id
        )
        rec.kind = check["kind"]
        rec.expires_on = check["expires_on"]
        rec.checked_on = check["checked_on"]
        rec.checked_by = check["checked_by"]
        rec.reference = check.get("reference") or ""
        rec.notes = check.get("notes") or ""
        rec.recorded_at = check.get("recorded_at") or utcnow()
        session.add(rec)
    session.flush()
    return created


def _import_service(
    session: Session, geocoder: Geocoder, identity: Identity, record: dict[str, Any]
) -> bool:
    values = ListingImportSchema().load(record)
    return _upsert_service(session, geocoder, identity, values)


def _upsert_service(
    session: Session, geocoder: Geocoder, identity: Identity, values: dict[str, Any]
) -> bool:
    get_provider(session, values["organization_id"])
    check_ages(values)  # the same rule as the API
    service = session.get(Service, values["id"])
    created = service is None
    if service is None:
        service = Service(id=values["id"], organization_id=values["organization_id"], version=1)
        session.add(service)
    service.organization_id = values["organization_id"]
    for key, empty in (
        ("description", ""),
        ("url", None),
        ("email", None),
        ("phone", None),
        ("minimum_age", None),
        ("maximum_age", None),
        ("accessibility", []),
        ("languages", []),
        ("welcomes", []),
        ("cost_options", []),
        ("schedules", []),
        ("location", None),
        ("categories", []),
    ):
        values.setdefault(key, empty)
    service.name = values["name"]
    service.status = values.get("status") or "active"
    apply_values(session, service, values, geocoder)
    service.assured_date = values.get("assured_date")
    service.version = values.get("version") or (service.version or 1)
    now = utcnow()
    service.last_modified = values.get("last_modified") or now
    service.created_at = values.get("created_at") or service.created_at or now
    service.archived_at = (service.archived_at or now) if values.get("archived") else None
    session.flush()
    docs.emit_upserted(session, service, docs.term_index(session))
    return created


# ---- ORUK/HSDS services from another feed ----------------------------------------------------

ORUK_STATUS = {"temporarily closed": "temporarily_closed"}


def _oruk_categories(session: Session, record: dict[str, Any]) -> list[str]:
    terms = list(session.scalars(select(TaxonomyTerm)))
    by_id = {t.id: t.slug for t in terms}
    by_text = {t.slug: t.slug for t in terms} | {t.name.lower(): t.slug for t in terms}
    slugs = []
    for attribute in record.get("attributes") or []:
        term = attribute.get("taxonomy_term") or {}
        found = (
            by_id.get(attribute.get("taxonomy_term_id") or "")
            or by_id.get(term.get("id") or "")
            or by_text.get(str(term.get("term") or "").lower())
            or by_text.get(str(term.get("name") or "").lower())
        )
        if found and found not in slugs:
            slugs.append(found)
    return slugs


def _import_oruk_service(
    session: Session, geocoder: Geocoder, identity: Identity, record: dict[str, Any]
) -> bool:
    service_id = _uuid(record.get("id"), "id")
    org = record.get("organization") or {}
    org_id = _uuid(record.get("organization_id") or org.get("id"), "organization_id")
    if session.get(Organization, org_id) is None:
        if not org.get("name"):
            raise ValueError("The service's organization is unknown and not included.")
        session.add(
            Organization(
                id=org_id,
                name=str(org["name"])[:200],
                description=str(org.get("description") or "")[:5000],
                email=org.get("email"),
                website=org.get("website"),
            )
        )
        session.flush()
    location = None
    for sal in record.get("service_at_locations") or []:
        loc = sal.get("location") or {}
        address = (loc.get("addresses") or [{}])[0]
        location = {
            "id": loc.get("id"),
            "name": loc.get("name"),
            "address_1": address.get("address_1") or "",
            "town": address.get("city") or "",
            "postcode": address.get("postal_code"),
            "latitude": loc.get("latitude"),
            "longitude": loc.get("longitude"),
        }
        break
    mapped = {
        "record": "service",
        "id": service_id,
        "organization_id": org_id,
        "name": record.get("name"),
        "description": record.get("description") or "",
        "url": record.get("url"),
        "email": record.get("email"),
        "status": ORUK_STATUS.get(str(record.get("status")), record.get("status") or "active"),
        "minimum_age": _int_or_none(record.get("minimum_age")),
        "maximum_age": _int_or_none(record.get("maximum_age")),
        "categories": _oruk_categories(session, record),
        "languages": [
            lang.get("code") for lang in record.get("languages") or [] if lang.get("code")
        ],
        "cost_options": [
            {
                "id": c.get("id"),
                "amount_pence": round(float(c.get("amount") or 0) * 100),
                "unit": _unit(c.get("amount_description") or ""),
                "description": str(c.get("option") or "")[:200],
            }
            for c in record.get("cost_options") or []
        ],
        "schedules": [
            {
                "id": s.get("id"),
                "byday": s.get("byday"),
                "opens_at": str(s.get("opens_at") or "")[:5],
                "closes_at": str(s.get("closes_at") or "")[:5],
                "description": s.get("description") or "",
            }
            for s in record.get("schedules") or []
            if s.get("byday") and s.get("opens_at") and s.get("closes_at")
        ],
        "location": location,
        "assured_date": record.get("assured_date") or None,
        "last_modified": record.get("last_modified") or None,
    }
    values = ListingImportSchema().load({k: v for k, v in mapped.items() if v is not None})
    return _upsert_service(session, geocoder, identity, values)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _unit(text: str) -> str:
    lowered = text.lower()
    for unit, words in (
        ("per_month", ("month",)),
        ("per_year", ("year", "annual")),
        ("one_off", ("one-off", "one off", "course", "once")),
    ):
        if any(w in lowered for w in words):
            return unit
    return "per_session"


def read_source(source: str, max_pages: int = 1000) -> list[Any]:
    """Records from a file path or an http(s) URL; an ORUK feed's later pages are fetched too."""
    if not source.startswith(("http://", "https://")):
        with open(source, encoding="utf-8") as handle:
            return parse_feed(handle.read())
    import requests

    response = requests.get(source, timeout=30)
    response.raise_for_status()
    first = response.text
    records = parse_feed(first)
    try:
        page = json.loads(first)
    except json.JSONDecodeError:
        return records
    if not isinstance(page, dict) or "total_pages" not in page:
        return records
    number = int(page.get("page_number") or 1)
    total = min(int(page.get("total_pages") or 1), max_pages)
    while number < total:
        number += 1
        more = requests.get(source, params={"page": number}, timeout=30)
        more.raise_for_status()
        records.extend(parse_feed(more.text))
    return records
