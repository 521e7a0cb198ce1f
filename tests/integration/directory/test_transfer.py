"""Export, import into an empty directory, export again: nothing lost, nothing changed."""

from __future__ import annotations

import json

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from services.directory import demo_data
from services.directory.adapters.geocode import OfflineGeocoder
from services.directory.adapters.orm import Organization, Service
from services.directory.seed import seed
from services.directory.service_layer import documents as docs
from services.directory.service_layer import transfer
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from shared.identity import Identity
from tests.integration.directory.test_database import migrated

ADMIN = Identity(sub="test-admin", role="admin")


def test_export_import_export_round_trips(database_url, tmp_path):
    source = migrated(f"sqlite:///{tmp_path / 'source.db'}")
    target = migrated(database_url)
    try:
        seed(source)
        first = list(transfer.export_lines(SqlUnitOfWork(source)))
        records = [json.loads(line) for line in first]
        summary = transfer.import_records(SqlUnitOfWork(target), OfflineGeocoder(), ADMIN, records)
        assert summary.rejected == []
        assert summary.created == len(records)
        second = list(transfer.export_lines(SqlUnitOfWork(target)))
        assert second == first
        again = transfer.import_records(SqlUnitOfWork(target), OfflineGeocoder(), ADMIN, records)
        assert again.created == 0 and again.updated == len(records)
        assert list(transfer.export_lines(SqlUnitOfWork(target))) == first
    finally:
        source.dispose()
        target.dispose()


def test_the_export_reads_no_orm_objects_and_matches_the_orm_built_records(database_url):
    """Core rows in keyset pages (pages of 7 here, so boundaries fall inside the catalogue) give
    the same lines, in the same order, as records built from the ORM's objects; and not one ORM
    object is loaded (docs/operations.md, "A native crash in the directory")."""
    db = migrated(database_url)
    loaded = []

    def count(_session, instance):
        loaded.append(instance)

    try:
        seed(db)
        event.listen(Session, "loaded_as_persistent", count)
        try:
            lines = list(transfer.export_lines(SqlUnitOfWork(db), page_size=7))
        finally:
            event.remove(Session, "loaded_as_persistent", count)
        assert loaded == []
        with db.session() as session:
            expected = []
            for org in session.scalars(select(Organization).order_by(Organization.id)):
                record = transfer.organization_record(org)
                # checks by recorded_at as the relationship orders them, ties (the seed records
                # several at one moment) by id: the ORM left those in the database's order
                record["checks"].sort(key=lambda check: (check["recorded_at"], check["id"]))
                expected.append(json.dumps(record, sort_keys=True))
            services = session.scalars(docs.listing_query().order_by(Service.id))
            expected += [json.dumps(transfer.service_record(s), sort_keys=True) for s in services]
        assert len(expected) == demo_data.PROVIDERS + demo_data.ALL_LISTINGS
        assert lines == expected
        assert list(transfer.export_lines(SqlUnitOfWork(db), page_size=len(expected))) == expected
    finally:
        db.dispose()


def test_a_bad_record_is_rejected_whole_and_named(database_url):
    db = migrated(database_url)
    try:
        org = {
            "record": "organization",
            "id": "7c1c2b0e-0000-4000-8000-000000000001",
            "name": "Fictional Club",
        }
        good = {
            "record": "service",
            "id": "7c1c2b0e-0000-4000-8000-000000000002",
            "organization_id": org["id"],
            "name": "Tuesday climbing",
            "categories": ["climbing"],
            "cost_options": [{"amount_pence": 900, "unit": "per_session"}],
        }
        bad = {
            **good,
            "id": "7c1c2b0e-0000-4000-8000-000000000003",
            "minimum_age": 30,
            "maximum_age": 12,
        }
        priced = {
            **good,
            "id": "7c1c2b0e-0000-4000-8000-000000000004",
            "cost_options": [{"amount_pence": -5, "unit": "per_session"}],
        }
        text = "\n".join(json.dumps(r) for r in (org, good, bad, priced)) + "\n{not json\n"
        summary = transfer.import_records(
            SqlUnitOfWork(db), OfflineGeocoder(), ADMIN, transfer.parse_feed(text)
        )
        assert summary.created == 2
        assert [r["line"] for r in summary.rejected] == [3, 4, 5]
        assert "minimum_age" in summary.rejected[0]["reason"]
        assert "amount_pence" in summary.rejected[1]["reason"]
        ids = {json.loads(line)["id"] for line in transfer.export_lines(SqlUnitOfWork(db))}
        assert ids == {org["id"], good["id"]}
    finally:
        db.dispose()


def test_an_oruk_page_imports(database_url):
    db = migrated(database_url)
    try:
        page = {
            "total_items": 1,
            "contents": [
                {
                    "id": "9d9b3f3e-0000-4000-8000-000000000001",
                    "name": "Riverside salsa",
                    "description": "Salsa by the river",
                    "status": "temporarily closed",
                    "minimum_age": 16,
                    "organization": {
                        "id": "9d9b3f3e-0000-4000-8000-0000000000aa",
                        "name": "River Club",
                        "description": "x",
                    },
                    "cost_options": [
                        {
                            "id": "9d9b3f3e-0000-4000-8000-0000000000c1",
                            "amount": 7.5,
                            "option": "Drop in",
                        }
                    ],
                    "attributes": [
                        {
                            "id": "9d9b3f3e-0000-4000-8000-0000000000d1",
                            "taxonomy_term": {
                                "id": "x",
                                "name": "Salsa",
                                "description": "",
                                "term": "salsa",
                            },
                        }
                    ],
                    "service_at_locations": [
                        {
                            "id": "9d9b3f3e-0000-4000-8000-0000000000e1",
                            "location": {
                                "id": "9d9b3f3e-0000-4000-8000-0000000000f1",
                                "location_type": "physical",
                                "addresses": [
                                    {
                                        "address_1": "1 Quay",
                                        "city": "Lewes",
                                        "postal_code": "BN7 2AA",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        summary = transfer.import_records(
            SqlUnitOfWork(db), OfflineGeocoder(), ADMIN, transfer.parse_feed(json.dumps(page))
        )
        assert summary.rejected == [] and summary.created == 1
        service = [
            json.loads(line)
            for line in transfer.export_lines(SqlUnitOfWork(db))
            if '"service"' in line
        ][0]
        assert service["status"] == "temporarily_closed"
        assert service["categories"] == ["salsa"]
        assert service["cost_options"][0]["amount_pence"] == 750
        assert service["location"]["latitude"]  # placed from the postcode district
    finally:
        db.dispose()


def test_the_cli_exports_and_imports(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from services.directory.cli import group

    source = f"sqlite:///{tmp_path / 'cli-source.db'}"
    target = f"sqlite:///{tmp_path / 'cli-target.db'}"
    db = migrated(source)
    seed(db)
    db.dispose()
    migrated(target).dispose()
    out = tmp_path / "export.ndjson"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", source)
    exported = CliRunner().invoke(group, ["export", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", target)
    imported = CliRunner().invoke(group, ["import", str(out)])
    assert imported.exit_code == 0, imported.output
    records = demo_data.PROVIDERS + demo_data.ALL_LISTINGS
    assert f"{records} created, 0 updated, 0 rejected" in imported.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"record": "service", "id": "nope", "name": "x"}]))
    refused = CliRunner().invoke(group, ["import", str(bad)])
    assert refused.exit_code == 1 and "record 1 (nope)" in refused.output


def test_importing_the_oruk_feed_of_a_running_directory(suite, tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'from-feed.db'}")
    try:
        records = transfer.read_source(f"{suite.gateway}/oruk/services?per_page=50")
        assert len(records) >= 180
        summary = transfer.import_records(SqlUnitOfWork(db), OfflineGeocoder(), ADMIN, records)
        assert summary.rejected == [] and summary.created == len(records)
        services = [
            json.loads(line)
            for line in transfer.export_lines(SqlUnitOfWork(db))
            if '"service"' in line
        ]
        by_id = {s["id"]: s for s in services}
        from shared.demo import demo_uuid

        gym = by_id[demo_uuid("listing", 0)]
        assert gym["name"] == "Hastings Harbour Gym" and gym["categories"] == ["gym"]
        assert gym["cost_options"][0]["amount_pence"] == 2500
        assert gym["location"]["postcode"] and gym["schedules"]
    finally:
        db.dispose()
