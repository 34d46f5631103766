"""Real servers on 127.0.0.1 for the adapters to talk to: SMTP and HTTP.

``mail_server`` is an SMTP server (aiosmtpd) that takes a login and keeps
what it accepts; ``endpoint`` is an HTTP server (aiohttp) that plays an
agency's endpoint. Each test gets its own, on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from activities.webhook import SIGNATURE_HEADER, signature
from tests.helpers import free_port

SMTP_LOGIN = ("protocol", "s3cret-on-loopback")
WEBHOOK_SECRET = "a-secret-of-32-characters-or-more"


class MailServer:
    """An SMTP server's handler that keeps what it accepts.

    ``refuse`` maps an address to the reply its RCPT gets instead of 250.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"


def authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    login = tuple(part.encode() for part in SMTP_LOGIN)
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == login
    # Not handled: the server itself answers 235 or 535.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def mail_server() -> Iterator[tuple[MailServer, int]]:
    """An SMTP server on 127.0.0.1 that takes a login, and its port."""
    handler = MailServer()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        # Loopback only: the login need not wait for TLS here.
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


class Endpoint:
    """An agency's endpoint: keeps each request, answers as a test sets it.

    ``failures`` answers with ``failure_status`` that many times first.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.reply: dict[str, Any] | None = {"reference": "SRPD-27-04417"}
        self.signed_with: str | None = WEBHOOK_SECRET
        self.delay = 0.0
        self.failures = 0
        self.failure_status = 500
        # Set at teardown, so that a slow answer does not hold the server.
        self.released = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            (request.path, dict(request.headers), await request.read())
        )
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), self.delay)
        status = self.status
        if self.failures:
            self.failures -= 1
            status = self.failure_status
        content = b"" if self.reply is None else json.dumps(self.reply).encode()
        headers = {}
        if self.signed_with is not None:
            headers[SIGNATURE_HEADER] = signature(SecretStr(self.signed_with), content)
        return web.Response(
            status=status,
            body=content,
            headers=headers,
            content_type="application/json",
        )


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[Endpoint, int]]:
    """An HTTP server on 127.0.0.1 with one path per integration."""
    handler = Endpoint()
    app = web.Application()
    app.router.add_post("/{integration}", handler.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield handler, port
    handler.released.set()
    await runner.cleanup()
