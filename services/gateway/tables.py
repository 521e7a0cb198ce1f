"""The gateway's own database: server-side web sessions and the admin-managed provider-user map.

It holds no business data; it is what lets sessions survive a restart and be shared by replicas.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from shared.orm import service_metadata

metadata = service_metadata()

web_sessions = Table(
    "web_sessions",
    metadata,
    # sha256 of the cookie's random id: a copy of this table gives no one a usable cookie.
    Column("id_hash", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    Column("user_sub", String(255), nullable=True, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
)

# Which provider organisation a provider user acts for, when the identity provider's token does
# not carry it (managed with `phb gateway provider-user`).
provider_users = Table(
    "provider_users",
    metadata,
    Column("subject", String(255), primary_key=True),
    Column("provider_id", String(36), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
