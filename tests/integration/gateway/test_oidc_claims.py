"""From an identity provider's claims to a user of this suite: roles through the mapping table,
a provider user's organisation from a claim or from the admin-managed table (`phb gateway`)."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from services.cli import main
from services.gateway.oidc import SignInRefused, link_provider_user, user_from_claims
from services.gateway.settings import GatewaySettings
from shared.db import Database
from tests.support import migrate

ORG = str(uuid.uuid4())


def settings(**config: str) -> GatewaySettings:
    return GatewaySettings.load({"PHB_DEMO": "1", "GATEWAY_SESSION_SECRET": "x" * 40, **config})


@pytest.fixture
def db(database_url):  # type: ignore[no-untyped-def]
    migrate("gateway", database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def test_mapped_groups_give_our_role_and_unmapped_ones_nothing(db):
    mapped = settings(
        OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP="PHB.Advisors=advisor,PHB.Finance=finance"
    )
    user = user_from_claims(
        {"sub": "a", "groups": ["All staff", "PHB.Advisors"], "name": "Al"}, mapped, db
    )
    assert (user.identity.role, user.label) == ("advisor", "Al")
    with pytest.raises(SignInRefused, match="no role"):
        user_from_claims({"sub": "b", "groups": ["All staff", "admin"]}, mapped, db)
    with pytest.raises(SignInRefused, match="more than one role"):
        user_from_claims({"sub": "c", "groups": ["PHB.Advisors", "PHB.Finance"]}, mapped, db)


def test_without_a_map_only_our_own_role_names_count(db):
    plain = settings()
    assert user_from_claims({"sub": "a", "roles": ["admin"]}, plain, db).identity.role == "admin"
    assert user_from_claims({"sub": "a", "roles": "finance"}, plain, db).identity.role == "finance"
    with pytest.raises(SignInRefused):
        user_from_claims({"sub": "a", "roles": ["Admins"]}, plain, db)
    with pytest.raises(SignInRefused):
        user_from_claims({"sub": "a"}, plain, db)


def test_a_provider_users_organisation_comes_from_the_claim_or_the_table(db):
    claim = settings(OIDC_PROVIDER_CLAIM="org")
    user = user_from_claims({"sub": "p", "roles": ["provider"], "org": ORG}, claim, db)
    assert user.identity.provider_id == ORG
    with pytest.raises(SignInRefused, match="not linked to an organisation"):
        user_from_claims({"sub": "p", "roles": ["provider"], "org": "not-a-uuid"}, claim, db)
    with pytest.raises(SignInRefused, match="not linked to an organisation"):
        user_from_claims({"sub": "q", "roles": ["provider"]}, claim, db)
    link_provider_user(db, "q", ORG)
    assert (
        user_from_claims({"sub": "q", "roles": ["provider"]}, claim, db).identity.provider_id == ORG
    )
    other = user_from_claims({"sub": "r", "roles": ["advisor"], "org": ORG}, claim, db)
    assert other.identity.provider_id is None  # only provider users act for an organisation


def test_an_admin_links_and_unlinks_provider_users_with_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'gateway.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["gateway", "provider-user", "link", "pat", ORG]).exit_code == 0
    listed = runner.invoke(main, ["gateway", "provider-user", "list"])
    assert listed.output.strip() == f"pat\t{ORG}"
    assert runner.invoke(main, ["gateway", "provider-user", "link", "pat", "x"]).exit_code != 0
    assert runner.invoke(main, ["gateway", "provider-user", "unlink", "pat"]).exit_code == 0
    assert runner.invoke(main, ["gateway", "provider-user", "unlink", "pat"]).exit_code != 0
