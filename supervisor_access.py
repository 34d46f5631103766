"""Who may read the supervisor page, and what every answer carries.

One token, at least 32 characters, from ``CSEC_SUPERVISOR_TOKEN_FILE`` or
``CSEC_SUPERVISOR_TOKEN`` (read by ``codec_server.load_token``). A request
shows it as ``Authorization: Bearer TOKEN``, as the password of HTTP Basic
authentication (any user name: the browser's own sign-in prompt), or as the
HttpOnly, SameSite=Strict cookie that ``/login`` sets. Every answer is
never cached, never framed, sent with no referrer, and allows no script.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

import supervisor_pages as pages

log = structlog.get_logger(__name__)

TOKEN_FILE_ENV = "CSEC_SUPERVISOR_TOKEN_FILE"
TOKEN_ENV = "CSEC_SUPERVISOR_TOKEN"
COOKIE = "csec-supervisor-token"
COOKIE_SECONDS = 8 * 3600
# The page's one stylesheet is inline; the policy allows that one only.
STYLE_HASH = base64.b64encode(hashlib.sha256(pages.STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    hdrs.CACHE_CONTROL: "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def given_token(request: web.Request) -> str:
    """The token a request carries: bearer, Basic password, or cookie."""
    scheme, _, value = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return request.cookies.get(COOKIE, "")


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, content_type="text/html", status=status)


def guard(token: str) -> Middleware:
    """The middleware that lets through only requests with the token.

    It logs each request by method, path and status: a path holds ids at
    most, and the query, which may hold an officer's id, is left out.
    """
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response: web.StreamResponse
        if request.path == "/login" or hmac.compare_digest(
            given_token(request).encode(), expected
        ):
            try:
                response = await handler(request)
            except web.HTTPException as error:
                # Answered here, so that it carries the headers below too.
                response = web.Response(
                    status=error.status, text=error.text, headers=error.headers
                )
        else:
            response = html(pages.login("Sign in to see the caseload."), 401)
            response.headers[hdrs.WWW_AUTHENTICATE] = (
                'Basic realm="Supervisor", charset="UTF-8"'
            )
        elapsed = (time.perf_counter() - started) * 1000
        response.headers.update(SECURITY_HEADERS)
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        log.info(
            "supervisor_request",
            method=request.method,
            path=request.path,
            status=response.status,
            ms=round(elapsed, 1),
        )
        return response

    return middleware


def add_login(app: web.Application, token: str) -> None:
    """``/login``: a form whose right token becomes the cookie."""
    expected = token.encode()

    async def login_page(request: web.Request) -> web.Response:
        return html(pages.login("Sign in with the supervisor page's token."))

    async def login(request: web.Request) -> web.Response:
        given = str((await request.post()).get("token", "")).strip()
        if not hmac.compare_digest(given.encode(), expected):
            return html(pages.login("That is not the token."), 401)
        response = web.Response(status=303, headers={hdrs.LOCATION: "/"})
        response.set_cookie(
            COOKIE,
            given,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        return response

    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
