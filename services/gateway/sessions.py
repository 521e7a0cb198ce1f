"""Server-side web sessions in the gateway's own database.

The cookie holds only a random id (256 bits); the table keys rows by its SHA-256, so a copy of the
table gives no one a usable cookie. Everything else (who is signed in, the CSRF token, OIDC state
and tokens) stays on the server. A session ends after `idle` seconds without a request or
`absolute` seconds after sign-in, whichever comes first; signing out deletes the row. Sessions live
in the database, so they survive a restart and every gateway replica sees the same ones.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, insert, or_, select, update
from werkzeug.datastructures import CallbackDict

from services.gateway.tables import web_sessions
from shared.db import Database

COOKIE_NAME = "phb_session"
_SID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# Paths that never use a web session: no database read for them (the API takes bearer tokens only,
# so a browser's cookie gives it no ambient authority).
SESSIONLESS = ("/static/", "/assets/", "/docs/assets/", "/api/", "/oruk", "/health")
TOUCH_EVERY = 60  # seconds: how stale last_seen_at may get before a request refreshes it
PURGE_CHANCE = 0.01  # of a save also deleting every ended session (so no job is needed for it)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def new_sid() -> str:
    return secrets.token_urlsafe(32)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        sid: str | None = None,
        created_at: int | None = None,
    ):
        def on_update(_self: Any) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.created_at = created_at
        self.new = sid is None
        self.modified = False
        self.accessed = False
        self.rotate = False
        self.ended = False

    def regenerate(self) -> None:
        """A new id for this session (on sign-in: no fixation); the old row goes."""
        self.rotate = True
        self.modified = True

    def end(self) -> None:
        """Sign-out: the row is deleted and the cookie cleared."""
        self.clear()
        self.ended = True
        self.modified = True


class SessionStore:
    def __init__(
        self, db: Database, *, idle: int, absolute: int, purge_chance: float = PURGE_CHANCE
    ):
        self.db = db
        self.idle = idle
        self.absolute = absolute
        self.purge_chance = purge_chance

    def load(self, sid: str, now: int | None = None) -> tuple[dict[str, Any], int] | None:
        now = int(time.time()) if now is None else now
        key = _hash(sid)
        with self.db.session() as s:
            row = s.execute(select(web_sessions).where(web_sessions.c.id_hash == key)).first()
        if row is None:
            return None
        if now - row.last_seen_at > self.idle or now - row.created_at > self.absolute:
            self.delete(sid)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self.db.write() as s:
                s.execute(
                    update(web_sessions)
                    .where(web_sessions.c.id_hash == key)
                    .values(last_seen_at=now)
                )
        return json.loads(row.data), row.created_at

    def save(self, sid: str, data: dict[str, Any], created_at: int, now: int | None = None) -> None:
        now = int(time.time()) if now is None else now
        key = _hash(sid)
        user = data.get("user") if isinstance(data.get("user"), dict) else None
        values = {
            "data": json.dumps(data, separators=(",", ":")),
            "user_sub": (user or {}).get("sub"),
            "last_seen_at": now,
        }

        def work(s: Any) -> None:
            changed = s.execute(
                update(web_sessions).where(web_sessions.c.id_hash == key).values(**values)
            ).rowcount
            if not changed:
                s.execute(insert(web_sessions).values(id_hash=key, created_at=created_at, **values))

        self.db.run_write(work)
        if random.random() < self.purge_chance:
            self.purge(now)

    def delete(self, sid: str) -> None:
        key = _hash(sid)
        self.db.run_write(
            lambda s: s.execute(delete(web_sessions).where(web_sessions.c.id_hash == key))
        )

    def purge(self, now: int | None = None) -> int:
        now = int(time.time()) if now is None else now
        stale = or_(
            web_sessions.c.last_seen_at < now - self.idle,
            web_sessions.c.created_at < now - self.absolute,
        )
        return self.db.run_write(
            lambda s: int(getattr(s.execute(delete(web_sessions).where(stale)), "rowcount", 0))
        )

    def count(self) -> int:
        with self.db.session() as s:
            return len(s.execute(select(web_sessions.c.id_hash)).all())


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, *, secure: bool):
        self.store = store
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if request.path.startswith(SESSIONLESS):
            return ServerSession()
        sid = request.cookies.get(COOKIE_NAME, "")
        if sid and _SID.match(sid):
            loaded = self.store.load(sid)
            if loaded is not None:
                data, created_at = loaded
                return ServerSession(data, sid=sid, created_at=created_at)
        return ServerSession()

    def _set_cookie(self, response: Response, sid: str) -> None:
        response.set_cookie(
            COOKIE_NAME,
            sid,
            httponly=True,
            secure=self.secure,
            samesite="Lax",
            path="/",
        )

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.accessed:
            response.vary.add("Cookie")
        if session.ended or (not session and session.modified):
            if session.sid:
                self.store.delete(session.sid)
            response.delete_cookie(
                COOKIE_NAME, path="/", secure=self.secure, httponly=True, samesite="Lax"
            )
            return
        if not session.modified or not session:
            return
        now = int(time.time())
        if session.rotate and session.sid:
            self.store.delete(session.sid)
        if session.rotate or session.sid is None:
            session.sid = new_sid()
            session.created_at = now
        self.store.save(session.sid, dict(session), session.created_at or now, now)
        self._set_cookie(response, session.sid)
