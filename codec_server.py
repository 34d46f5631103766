"""The codec server: lets authorised staff read sealed episodes in the Web UI.

Temporal's remote codec protocol: ``POST /decode`` and ``POST /encode`` take
and return ``{"payloads": [...]}`` in Temporal's JSON form, and run them
through the workers' codec (``codec.py``, the same keys). Every call needs
the token, as ``Authorization: Bearer TOKEN`` (the ``temporal`` CLI's
``--codec-auth``) or as the cookie that ``/login`` sets in a browser; a
browser is answered only from the Web UI's origin.

    python codec_server.py --origin http://127.0.0.1:8233 [--port 8081]

The token comes from the file named by ``CSEC_CODEC_TOKEN_FILE`` or from
``CSEC_CODEC_TOKEN``: at least 32 characters, never from the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import secrets
import signal
import ssl
import stat
import sys
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from html import escape
from pathlib import Path

import structlog
from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from codec import EncryptionCodec, KeyConfigError, UnreadablePayload, load_keys
from logs import configure_logging

log = structlog.get_logger(__name__)

TOKEN_FILE_ENV = "CSEC_CODEC_TOKEN_FILE"
TOKEN_ENV = "CSEC_CODEC_TOKEN"
TOKEN_MIN_LENGTH = 32
COOKIE = "csec-codec-token"
COOKIE_SECONDS = 8 * 3600
DEFAULT_PORT = 8081
LOGIN_PAGE = """<!doctype html>
<title>Codec server</title>
<form method="post" action="login">
<p>{message}</p>
<label>Token <input type="password" name="token" autofocus></label>
<button>Sign in</button>
</form>
"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenConfigError(ValueError):
    """A codec server token that cannot be used; nothing was started."""


def new_token() -> str:
    """A fresh token of 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


def load_token(
    environ: Mapping[str, str] | None = None,
    *,
    file_env: str = TOKEN_FILE_ENV,
    inline_env: str = TOKEN_ENV,
) -> str:
    """The token from ``CSEC_CODEC_TOKEN_FILE`` or ``CSEC_CODEC_TOKEN``.

    ``file_env`` and ``inline_env`` name other variables, for another
    server's token (the supervisor page's).

    Raises:
        TokenConfigError: neither or both set, a file others may read, or a
            token too short to resist guessing. The token is never quoted.
    """
    environ = os.environ if environ is None else environ
    path, inline = environ.get(file_env), environ.get(inline_env)
    if path and inline:
        raise TokenConfigError(f"set {file_env} or {inline_env}, not both")
    if path:
        source = f"{file_env} {path}"
        try:
            mode = Path(path).stat().st_mode
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise TokenConfigError(f"{source}: cannot be read ({reason})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TokenConfigError(f"{source}: readable by others; chmod 600 it")
    elif inline:
        source, token = inline_env, inline.strip()
    else:
        raise TokenConfigError(f"no token: set {file_env} or {inline_env}")
    if len(token) < TOKEN_MIN_LENGTH:
        raise TokenConfigError(
            f"{source}: the token must be at least {TOKEN_MIN_LENGTH} characters"
        )
    return token


def build_app(
    codec: EncryptionCodec, token: str, origins: Collection[str]
) -> web.Application:
    """The codec server's routes, behind the token and the origin check.

    Args:
        codec: The workers' codec, with the same keys.
        token: What a caller must present.
        origins: The Web UI origins a browser may call from, exactly as the
            browser sends them (``http://127.0.0.1:8233``); never ``*``.
    """
    if "*" in origins:
        raise ValueError("origins: name the Web UI's origin, not *")
    expected = token.encode()

    def authorised(request: web.Request) -> bool:
        scheme, _, given = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        if scheme.lower() != "bearer":
            given = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(given.strip().encode(), expected)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        own = f"{request.scheme}://{request.host}"
        response: web.StreamResponse
        # A browser elsewhere gets nothing, not even a refusal it can read.
        if origin is not None and origin not in origins and origin != own:
            response = web.json_response({"error": "origin not allowed"}, status=403)
        elif request.method == hdrs.METH_OPTIONS:
            response = web.Response(status=204)
        elif request.path == "/login" or authorised(request):
            response = await handler(request)
        else:
            response = web.json_response({"error": "token required"}, status=401)
            response.headers[hdrs.WWW_AUTHENTICATE] = "Bearer"
        log.info(
            "codec_request",
            method=request.method,
            path=request.path,
            status=response.status,
            namespace=request.headers.get("X-Namespace"),
        )
        return _answer(request, response)

    async def convert(request: web.Request, encode: bool) -> web.Response:
        try:
            payloads = json_format.Parse(await request.read(), Payloads())
        except (json_format.ParseError, UnicodeDecodeError):
            return web.json_response({"error": "body: not Payloads JSON"}, status=400)
        try:
            converted = await (codec.encode if encode else codec.decode)(
                payloads.payloads
            )
        except UnreadablePayload as error:
            return web.json_response({"error": str(error)}, status=422)
        return web.Response(
            text=json_format.MessageToJson(Payloads(payloads=converted)),
            content_type="application/json",
        )

    async def encode(request: web.Request) -> web.Response:
        return await convert(request, encode=True)

    async def decode(request: web.Request) -> web.Response:
        return await convert(request, encode=False)

    async def login_page(request: web.Request) -> web.Response:
        text = LOGIN_PAGE.format(message="Sign in to read episodes in the Web UI.")
        return web.Response(text=text, content_type="text/html")

    async def login(request: web.Request) -> web.Response:
        given = str((await request.post()).get("token", "")).strip()
        if not hmac.compare_digest(given.encode(), expected):
            text = LOGIN_PAGE.format(message=escape("That is not the token."))
            return web.Response(text=text, content_type="text/html", status=401)
        response = web.Response(
            text="Signed in. Reload the Web UI; its codec settings must "
            "include cross-origin credentials.",
        )
        # Strict: the UI on the same host sends it, no other site does.
        response.set_cookie(
            COOKIE,
            given,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        return response

    app = web.Application(middlewares=[guard], client_max_size=8 * 1024 * 1024)
    app.router.add_post("/encode", encode)
    app.router.add_post("/decode", decode)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    return app


def _answer(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    # CORS for the one origin the guard let through; none for other callers.
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and response.status != 403:
        response.headers.update(
            {
                hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "POST, OPTIONS",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: (
                    "Authorization, Content-Type, X-Namespace"
                ),
                hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS: "true",
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
                hdrs.VARY: "Origin",
            }
        )
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    return response


async def start(
    app: web.Application,
    host: str,
    port: int,
    tls: ssl.SSLContext | None = None,
) -> web.AppRunner:
    """Serve ``app``; call ``cleanup()`` on the runner to stop."""
    # No access log: our own event says what was asked, never what was sent.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=tls).start()
    return runner


def use_local_token(state_dir: Path) -> None:
    """With no token configured, use ``state_dir/codec-token``, made on
    first run readable by its owner only. For a local dev server only."""
    if os.environ.get(TOKEN_FILE_ENV) or os.environ.get(TOKEN_ENV):
        return
    path = state_dir / "codec-token"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(new_token() + "\n")
        log.info("codec_token_created", path=str(path))
    os.environ[TOKEN_FILE_ENV] = str(path)


async def start_local(codec: EncryptionCodec, port: int, ui_port: int) -> web.AppRunner:
    """The codec server on loopback for a dev server's Web UI on ``ui_port``.

    Its token is the configured one (see ``use_local_token``).
    """
    origins = [f"http://127.0.0.1:{ui_port}", f"http://localhost:{ui_port}"]
    runner = await start(build_app(codec, load_token(), origins), "127.0.0.1", port)
    log.info("codec_server_started", url=f"http://127.0.0.1:{port}")
    return runner


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """A server TLS context from a PEM certificate chain and key, or none."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TokenConfigError("--tls-cert and --tls-key: give both, or neither")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise TokenConfigError(f"--tls-cert/--tls-key: {error}") from None
    return context


async def serve(args: argparse.Namespace) -> None:
    codec = EncryptionCodec(load_keys())
    app = build_app(codec, load_token(), args.origin)
    runner = await start(
        app, args.host, args.port, tls_context(args.tls_cert, args.tls_key)
    )
    log.info("codec_server_started", host=args.host, port=args.port)
    await serve_until_stopped(runner)


async def serve_until_stopped(runner: web.AppRunner) -> None:
    """Serve until SIGINT or SIGTERM, then close every connection."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that serve over TLS (see ``tls_context``)."""
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain")
    parser.add_argument("--tls-key", type=Path, help="its PEM private key")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--origin",
        action="append",
        required=True,
        help="the Web UI's origin, e.g. http://127.0.0.1:8233 (repeatable)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="default: %(default)s"
    )
    add_tls_arguments(parser)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        asyncio.run(serve(args))
    except (KeyConfigError, TokenConfigError, ValueError) as error:
        print(f"codec server not started: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
