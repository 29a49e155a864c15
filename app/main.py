"""The ASGI application: ``app.main:app``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import api, grading, instructor, pages
from app.classroom import api as classroom_api
from app.classroom import db as classroom_db
from app.classroom import pages as classroom_pages
from app.errors import (
    BODY_TOO_LARGE,
    error_page,
    error_response,
    http_error_handler,
    request_validation_handler,
    solver_error_handler,
    wants_page,
)
from app.i18n import translate, use_language
from app.memory import limit_arenas
from app.settings import configure_torch, get_settings
from app.tasks import view_for
from solvers.registry import TASKS


class BodySizeLimit:
    """Reject request bodies over ``limit`` bytes with a 413, before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        size = int(declared) if declared.isdigit() else 0
        if size > self.limit:
            await self._reject(size, scope, receive, send)
            return
        received, over, started = 0, 0, False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                over = received
                raise _BodyTooLarge(received)
            return message

        async def guarded_send(message: Message) -> None:
            # what the app answers to a body cut short (a form parser's 400) is not sent:
            # the 413 is, below
            nonlocal started
            if not over or started:
                started = True
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if started:
                raise
        if over and not started:
            await self._reject(over, scope, receive, send)

    async def _reject(self, size: int, scope: Scope, receive: Receive, send: Send) -> None:
        """413, in the request's language: the error page for a browser's page form, the
        API's error shape otherwise."""
        request = Request(scope)
        use_language(request, get_settings().default_language)
        message = translate(BODY_TOO_LARGE, {"size": size, "limit": self.limit})
        if wants_page(request):
            response = error_page(request, 413, [message])
        else:
            detail = {"field": "", "loc": ["body"], "type": "body_too_large", "msg": message}
            response = error_response([detail], status_code=413)
        await response(scope, receive, send)


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # KaTeX and Swagger UI position their pieces with style attributes
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])  # fmt: skip
"""Only this server's scripts, styles, fonts and images; no framing; forms post here."""

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Every response gets :data:`SECURITY_HEADERS`; ``HEAD`` is answered as the ``GET`` of
    the same URL without its body (FastAPI routes know only ``GET``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*kept, *SECURITY_HEADERS]}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_secured)


class _BodyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    """At start, the classroom's migrations and instructor token, when it is configured
    (otherwise on its first use: nothing else needs a database); then the objects alive
    since the start are frozen out of the garbage collector's reach.

    They live as long as the process (modules, torch, sympy, the registry: over 300 000
    objects), and every full collection rescanned them all: about 0.45 s each, a pause of
    every request in flight, a few times a minute under load. Frozen, a full collection scans
    only what requests made (~60 ms)."""
    settings = get_settings()
    await run_in_threadpool(classroom_db.start, f"http://{settings.host}:{settings.port}")
    gc.collect()
    gc.freeze()
    yield


def create_app() -> FastAPI:
    """Build the app: JSON API, pages, static files, health check, error handlers.

    Routes and request models come from the tasks registered when it is called
    (:data:`solvers.registry.TASKS`), each task's view from :func:`app.tasks.view_for`.
    """
    settings = get_settings()
    configure_torch(settings)
    limit_arenas()
    application = FastAPI(
        title="stepgrad",
        version="0.1.0",
        summary="Step-by-step solutions of the CS231n lecture 5 quiz problems.",
        description=(
            f"Solve the quiz's problems ({pages.tasks_named()}) with every "
            "step worked out. Matrices may be sent as nested lists or as text "
            "(`1 2; 3 4`). Errors are 422 with `message` and per-field `detail`. "
            "Steps are in English unless `?lang=ru` or Accept-Language asks for Russian."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    application.add_exception_handler(RequestValidationError, request_validation_handler)
    application.add_exception_handler(ValidationError, request_validation_handler)
    application.add_exception_handler(PydanticCustomError, solver_error_handler)
    application.add_exception_handler(StarletteHTTPException, http_error_handler)
    for unavailable in classroom_db.UNAVAILABLE:
        application.add_exception_handler(unavailable, classroom_db.unavailable_handler)
    # the busiest first: routes match in order, each route checked costs ~4 µs
    student_api, teacher_api = classroom_api.build_routers()
    application.include_router(api.build_router())
    application.include_router(pages.build_router())
    application.include_router(student_api)
    for task in TASKS.values():
        extra = view_for(task.id).router
        if extra is not None:
            application.include_router(extra)
    application.include_router(grading.build_router())
    application.include_router(instructor.build_router())
    application.include_router(teacher_api)
    application.include_router(classroom_pages.build_router())
    application.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")

    @application.get("/healthz", tags=["health"], summary="Health check")
    async def healthz() -> dict[str, str]:
        """Always ``{"status": "ok"}`` while the server runs."""
        return {"status": "ok"}

    @application.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        """The API reference: the vendored Swagger UI (works offline and under the CSP)."""
        html = pages.templates.get_template("docs.html").render(openapi_url="/openapi.json")
        return HTMLResponse(html)

    @application.get("/redoc", include_in_schema=False)
    async def redoc() -> RedirectResponse:
        """The old ReDoc address (a CDN page): the reference is at ``/docs``."""
        return RedirectResponse("/docs", status_code=308)

    generated = application.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, with the models of the bodies routes read themselves."""
        if application.openapi_schema is None:
            schemas = generated().setdefault("components", {}).setdefault("schemas", {})
            for name, schema in grading.batch_schemas().items():
                schemas.setdefault(name, schema)
        return application.openapi_schema  # type: ignore[return-value]

    application.openapi = openapi  # type: ignore[method-assign]
    application.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    application.add_middleware(SecurityHeaders)
    return application


app = create_app()
