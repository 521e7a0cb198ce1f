"""The gateway's security settings, read once from the environment, and the start-up checks.

Two modes, chosen explicitly:
- demo (`PHB_DEMO=1`, which `phb up` sets): demo users on the sign-in page, the dev token issuer,
  in-memory rate limits, generated secrets under var/keys;
- production (anything else): sign-in through the council's OIDC provider only, secrets from the
  environment, rate limits in Redis. The gateway refuses to start when that is not configured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared.config import DatabaseSettings, env, generated_secret, var_dir

# Values seen in examples, tutorials and our own docs: never accepted as a production secret.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "password",
        "dev",
        "development",
        "test",
        "testing",
        "example",
        "default",
        "insecure",
        "please-change-me",
        "supersecret",
        "s3cr3t",
        "phb",
        "phb-suite",
        "dev-secret",
        "not-a-secret",
    }
)
PLACEHOLDER_PREFIXES = ("replace-with", "change-me", "changeme", "your-", "<")
MIN_SECRET_LENGTH = 32

# Production defaults for rate limits (`limits` notation; several may be joined by ";"); demo mode
# is lenient so a developer (or the test suite) clicking quickly is never slowed.
PRODUCTION_LIMITS = {
    "sign_in": "10 per minute",
    "feedback": "30 per minute",
    "search": "60 per minute",
    "oruk": "120 per minute",
    "api_user": "600 per minute",
}
DEMO_LIMITS = {
    "sign_in": "1000 per minute",
    "feedback": "1000 per minute",
    "search": "3000 per minute",
    "oruk": "3000 per minute",
    "api_user": "10000 per minute",
}


class StartupRefused(SystemExit):
    """The gateway will not start: the message is one line saying why."""

    def __init__(self, reason: str):
        super().__init__(f"gateway refused to start: {reason}")
        self.reason = reason


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_role_map(text: str | None) -> dict[str, str]:
    """`OIDC_ROLE_MAP`: JSON (`{"PHB.Advisors": "advisor"}`) or `group=role,group=role`."""
    if not text:
        return {}
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        return {str(k): str(v) for k, v in data.items()}
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


@dataclass(frozen=True)
class GatewaySettings:
    demo: bool
    session_secret: str
    session_secret_from_env: bool
    session_idle_seconds: int
    session_absolute_seconds: int
    secure_cookies: bool
    oidc_issuer: str | None
    oidc_client_id: str | None
    oidc_client_secret: str | None
    oidc_scopes: str
    oidc_role_claim: str
    oidc_role_map: dict[str, str]
    oidc_provider_claim: str | None
    oidc_name_claim: str
    oidc_metadata_url: str | None
    public_base_url: str | None
    ratelimit_storage: str
    ratelimit_enabled: bool
    limits: dict[str, str]
    proxy_hops: int
    org_name: str
    org_url: str
    org_logo: str | None
    internal_signing_key_from_env: bool
    oidc_audience: str = "phb-suite"
    # What the accessibility statement and privacy notice say (services.gateway.legal).
    org_contact_email: str = "wellbeing.budgets@council.example"
    org_dpo_email: str = "dpo@council.example"
    privacy_retention: str = "6 years after the young person leaves the programme, then deleted"
    accessibility_statement_date: str = "1 December 2026"
    # Calls to the services (`GATEWAY_CONNECT_TIMEOUT`, `GATEWAY_READ_TIMEOUT`: one deadline for
    # everything a request asks of them) and the readiness probe's (`GATEWAY_READY_TIMEOUT`), in s.
    connect_timeout: float = 1.0
    read_timeout: float = 10.0
    ready_timeout: float = 1.5
    # The gateway's own database (web sessions): `PHB_DB_*` as for the services.
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    # Demo mode's development token issuer keeps its key here (`PHB_VAR_DIR/keys`).
    keys_dir: Path = Path("var") / "keys"

    @property
    def oidc(self) -> bool:
        return bool(self.oidc_issuer)

    @classmethod
    def load(cls, config: dict[str, Any] | None = None) -> GatewaySettings:
        """From the app's config first (tests), then the environment."""
        config = config or {}

        def get(name: str, default: str | None = None) -> str | None:
            value = config.get(name)
            if value not in (None, ""):
                return str(value)
            return env(name, default)

        demo = _flag(get("PHB_DEMO", "0"))
        secret = get("GATEWAY_SESSION_SECRET")
        defaults = DEMO_LIMITS if demo else PRODUCTION_LIMITS
        limits = {
            name: get(f"RATELIMIT_{name.upper()}", default) or default
            for name, default in defaults.items()
        }
        return cls(
            demo=demo,
            session_secret=secret or (generated_secret("gateway-session.key") if demo else ""),
            session_secret_from_env=bool(secret),
            session_idle_seconds=int(float(get("SESSION_IDLE_MINUTES", "30") or 30) * 60),
            session_absolute_seconds=int(float(get("SESSION_ABSOLUTE_HOURS", "10") or 10) * 3600),
            secure_cookies=not _flag(get("PHB_INSECURE_COOKIES", "0")),
            oidc_issuer=get("OIDC_ISSUER"),
            oidc_client_id=get("OIDC_CLIENT_ID"),
            oidc_client_secret=get("OIDC_CLIENT_SECRET"),
            oidc_scopes=get("OIDC_SCOPES", "openid profile email") or "openid profile email",
            oidc_role_claim=get("OIDC_ROLE_CLAIM", "roles") or "roles",
            oidc_role_map=parse_role_map(get("OIDC_ROLE_MAP")),
            oidc_provider_claim=get("OIDC_PROVIDER_CLAIM"),
            oidc_name_claim=get("OIDC_NAME_CLAIM", "name") or "name",
            oidc_metadata_url=get("OIDC_METADATA_URL"),
            public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            ratelimit_storage=get("RATELIMIT_STORAGE_URI") or ("memory://" if demo else ""),
            ratelimit_enabled=_flag(get("RATELIMIT_ENABLED", "1")),
            limits=limits,
            proxy_hops=int(get("PROXY_FIX_HOPS", "0") or 0),
            org_name=get("ORG_NAME", "Example Council") or "Example Council",
            org_url=get("ORG_URL", "/") or "/",
            org_logo=get("ORG_LOGO_URL"),
            internal_signing_key_from_env=bool(
                get("INTERNAL_SIGNING_KEY_GATEWAY") or get("INTERNAL_SIGNING_KEY")
            ),
            oidc_audience=get("OIDC_AUDIENCE") or cls.oidc_audience,
            org_contact_email=get("ORG_CONTACT_EMAIL") or cls.org_contact_email,
            org_dpo_email=get("ORG_DPO_EMAIL") or cls.org_dpo_email,
            privacy_retention=get("PRIVACY_RETENTION") or cls.privacy_retention,
            accessibility_statement_date=(
                get("ACCESSIBILITY_STATEMENT_DATE") or cls.accessibility_statement_date
            ),
            connect_timeout=float(get("GATEWAY_CONNECT_TIMEOUT") or cls.connect_timeout),
            read_timeout=float(get("GATEWAY_READ_TIMEOUT") or cls.read_timeout),
            ready_timeout=float(get("GATEWAY_READY_TIMEOUT") or cls.ready_timeout),
            database=DatabaseSettings.from_env(),
            keys_dir=var_dir() / "keys",
        )

    # --- start-up checks ----------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Everything that stops this configuration being served; empty when it may start."""
        found: list[str] = []
        if not self.demo and not self.oidc:
            found.append(
                "neither OIDC sign-in (OIDC_ISSUER) nor demo mode (PHB_DEMO=1) is configured"
            )
        if self.oidc:
            if not self.oidc_client_id:
                found.append("OIDC_ISSUER is set but OIDC_CLIENT_ID is missing")
            if not self.demo:
                found += _secret_problems("OIDC_CLIENT_SECRET", self.oidc_client_secret)
        if self.demo:
            return found
        found += _secret_problems("GATEWAY_SESSION_SECRET", self.session_secret)
        if not self.internal_signing_key_from_env:
            found.append("INTERNAL_SIGNING_KEY is missing (the gateway's key for internal tokens)")
        if not self.ratelimit_storage:
            found.append("RATELIMIT_STORAGE_URI (redis://...) is missing")
        if not self.public_base_url:
            found.append("PUBLIC_BASE_URL is missing (links sent to young people need it)")
        elif urlsplit(self.public_base_url).scheme != "https" and not _local(self.public_base_url):
            found.append("PUBLIC_BASE_URL must be an https:// address")
        return found

    def check(self) -> None:
        found = self.problems()
        if found:
            raise StartupRefused(found[0])


def _local(url: str) -> bool:
    """A browser treats localhost as a secure context: allowed over http for trying things out."""
    return urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")


def _secret_problems(name: str, value: str | None) -> list[str]:
    if not value:
        return [f"{name} is missing"]
    lowered = value.strip().lower()
    if lowered in KNOWN_DEFAULT_SECRETS or lowered.startswith(PLACEHOLDER_PREFIXES):
        return [
            f"{name} is a known default; generate one (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        ]
    if len(value) < MIN_SECRET_LENGTH:
        return [f"{name} is shorter than {MIN_SECRET_LENGTH} characters"]
    return []
