"""The classroom's database: the engine for ``STEPGRAD_DATABASE_URL``, its Alembic
migrations, sessions, and the state every worker shares (instructor token, signing secret).

Nothing here runs until the classroom is used: solving, the try pages and the stateless
APIs never open a database.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import (
    TimeoutError as PoolTimeout,
)
from sqlalchemy.orm import Session, sessionmaker

from app.classroom.models import ServerState
from app.errors import error_page, error_response, wants_page
from app.i18n import translate, use_language
from app.settings import get_settings
from solvers.core import N_

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///./stepgrad.db"
"""The database when ``STEPGRAD_DATABASE_URL`` is unset: a SQLite file in the working folder."""
READ_ONLY = "stepgrad_read_only"
"""The execution option of a reading session (SQLite: a plain, deferred ``BEGIN``)."""
MIGRATION_LOCK = 72_317_001
"""PostgreSQL advisory lock key held while migrating (workers start together)."""

POOL_SIZE = 30
"""PostgreSQL connections a worker keeps (and at most opens): all kept, none opened and
closed per request under load (a new connection costs both sides a few milliseconds)."""

SHARED = ("instructor_token", "token_secret")
"""The shared values, made by the first worker that starts."""

log = logging.getLogger("stepgrad.classroom")


def database_url() -> str:
    """The configured database URL (the SQLite default when unset)."""
    return get_settings().database_url or DEFAULT_URL


def is_configured() -> bool:
    """Whether the classroom is set up: a database URL given, or the default file exists."""
    url = get_settings().database_url
    return bool(url) or Path(DEFAULT_URL.removeprefix("sqlite:///")).exists()


def to_json(value: Any) -> str:
    """JSON text for the database's JSON columns: compact, by ``orjson`` (a submission's
    grades, ~4 KB, in a tenth of the ``json`` module's time), or by ``json`` for what
    ``orjson`` refuses (an integer past 64 bits, sent as an answer)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite: WAL, a 30 s busy timeout, and ``BEGIN IMMEDIATE`` so
    that two writers queue instead of failing; PostgreSQL: :data:`POOL_SIZE` kept connections."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            json_serializer=to_json,
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a crash
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            reading = connection.get_execution_options().get(READ_ONLY)
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, pool_size=POOL_SIZE, max_overflow=0, pool_pre_ping=True, json_serializer=to_json
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (one worker at a time on PostgreSQL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                connection.commit()


class Database:
    """One database: its engine and session factory, migrated once per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._ready = False
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}

    def ready(self) -> Database:
        """Migrate on first use and read the shared state (so that no session ever waits
        for another of the same request); return itself."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    migrate(self.engine)
                    self._ready = True
                    for key in SHARED:
                        self.state(key)
        return self

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error.
        On SQLite a writing one holds the write lock from its start (writers queue instead
        of failing); ``write=False`` only reads (readers never wait)."""
        with self.ready().sessions.begin() as session:
            if not write:
                session.connection(execution_options={READ_ONLY: True})
            yield session

    def state(self, key: str, create: bool = True) -> str | None:
        """The shared value under ``key``; a new random one is stored first when missing
        (the first worker to store it wins, the others read it). Values never change once
        stored, so each is read once per process."""
        if key in self._state:
            return self._state[key]
        with self.session(write=False) as session:
            found = session.scalar(select(ServerState.value).where(ServerState.key == key))
        if found is not None:
            self._state[key] = found
        if found is not None or not create:
            return found
        try:
            with self.session() as session:
                session.add(ServerState(key=key, value=secrets.token_urlsafe(32)))
        except IntegrityError:
            pass
        return self.state(key, create=False)


@lru_cache(maxsize=4)
def _database(url: str) -> Database:
    return Database(url)


def get_database() -> Database:
    """The process's database for the configured URL (engine made on first call)."""
    return _database(database_url())


def instructor_token() -> str:
    """``STEPGRAD_INSTRUCTOR_TOKEN``, or the token the first start stored in the database."""
    return get_settings().instructor_token or str(get_database().state("instructor_token"))


def signing_secret() -> str:
    """The key of the students' links: ``STEPGRAD_SECRET``, or one stored in the database."""
    return get_settings().secret or str(get_database().state("token_secret"))


UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, ArgumentError)
"""A database that cannot be reached, refuses the connection, has no free connection, or is
misnamed in ``STEPGRAD_DATABASE_URL``: the classroom answers 503 (nothing else needs it)."""
UNAVAILABLE_MESSAGE = N_("the classroom's database is not available now; try again in a minute")


def shown_url() -> str:
    """The database URL as a log may show it (no password)."""
    try:
        return make_url(database_url()).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable STEPGRAD_DATABASE_URL)"


def reason(exc: Exception) -> str:
    """The first line of a database error (the driver's own words)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


async def unavailable_handler(request: Request, exc: Exception) -> Response:
    """:data:`UNAVAILABLE` as a 503 saying so (a page for a browser), the cause logged."""
    log.error("classroom: the database %s cannot be used: %s", shown_url(), reason(exc))
    use_language(request, get_settings().default_language)
    detail = {"field": "", "loc": [], "type": "database_unavailable",
              "msg": translate(UNAVAILABLE_MESSAGE)}  # fmt: skip
    if wants_page(request):
        return error_page(request, 503, [detail["msg"]])
    response = error_response([detail], status_code=503)
    response.headers["Retry-After"] = "60"
    return response


def start(base_url: str) -> None:
    """At the app's start, when the classroom is configured: migrate, make the instructor
    token if there is none, and log the instructor's login link (as Jupyter does)."""
    if not is_configured():
        return
    try:
        get_database().ready()
        token = instructor_token()
    except UNAVAILABLE as exc:
        log.error(
            "classroom: the database %s cannot be used (%s); the solvers and pages run, "
            "the classroom answers 503 until it can", shown_url(), reason(exc)
        )  # fmt: skip
        return
    if not get_settings().instructor_token:
        log.warning("classroom: the instructor's login link is %s/instructor/exams?token=%s",
                    base_url, token)  # fmt: skip
