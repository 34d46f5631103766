"""Submissions posted as signed JSON to an agency's or the case system's URL.

The request is one JSON object (the step, its ids and the submission's
body), with three headers the receiver relies on:

- ``Idempotency-Key``: the same for every attempt of one step or item, so
  the receiver takes a repeat as the first;
- ``X-Signature-SHA256``: ``sha256=`` and the hex HMAC-SHA256 of the exact
  body bytes under the integration's shared secret;
- ``Content-Type: application/json``.

A 2xx reply may carry ``{"reference": "..."}``, the agency's own number
(report, NIC, warrant, NCMEC case), which becomes the receipt's. A reply
that carries ``X-Signature-SHA256`` must be signed the same way, over its
body. HTTP 5xx, 408, 429 and timeouts are retried by the activity's retry
policy; any other 3xx or 4xx is a refusal, which leaves the step open.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from activities.errors import RecipientUnavailable, RefusedByRecipient, ReplyUnverified
from activities.outbox import Body
from activities.smtp import loopback
from workflows.effects import StepRequest

SIGNATURE_HEADER = "X-Signature-SHA256"
# Statuses that say "not now": the request may be taken when retried.
RETRY_STATUSES = frozenset({408, 429})
# 32 characters of a random secret: beyond guessing, and easy to generate.
SECRET_MIN = 32
# A reference longer than this is not an agency's number.
REFERENCE_MAX = 100


class WebhookConfig(BaseModel):
    """One integration's endpoint and the secret it shares with us."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    secret: SecretStr
    timeout_seconds: float = Field(default=10, gt=0, le=55)
    require_signed_reply: bool = False

    @field_validator("secret")
    @classmethod
    def long_secret(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < SECRET_MIN:
            raise ValueError(f"must be at least {SECRET_MIN} characters")
        return secret

    @field_validator("url")
    @classmethod
    def https_off_this_machine(cls, url: HttpUrl) -> HttpUrl:
        if url.scheme != "https" and not loopback(url.host or ""):
            raise ValueError("must be https unless the endpoint is on this machine")
        return url


def signature(secret: SecretStr, content: bytes) -> str:
    """The signature header's value for a body."""
    key = secret.get_secret_value().encode()
    return "sha256=" + hmac.new(key, content, hashlib.sha256).hexdigest()


class Webhook:
    """Posts submissions to one integration's endpoint.

    Args:
        config: The endpoint, its secret, and how long to wait for it.
    """

    name = "webhook"

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config

    async def send(
        self, request: StepRequest, integration: str, body: Body
    ) -> str | None:
        """Post the submission; the agency's reference, if its reply has one.

        Raises:
            RecipientUnavailable: A timeout, no connection, HTTP 5xx, 408, 429.
            RefusedByRecipient: Any other status but 2xx.
            ReplyUnverified: The reply's signature does not match.
        """
        item = "" if request.item is None else f" item {request.item}"
        what = f"{request.step}{item} to {integration}"
        content = json.dumps(envelope(request, integration, body), default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": request.idempotency_key,
            SIGNATURE_HEADER: signature(self.config.secret, content),
        }
        response = await self._post(content, headers, what)
        status = response.status_code
        if status >= 500 or status in RETRY_STATUSES:
            raise RecipientUnavailable(f"{what}: the endpoint answered HTTP {status}")
        if status >= 300:
            raise RefusedByRecipient(
                f"{what}: the endpoint refused it (HTTP {status})", "electronic", status
            )
        self._verify(response, what)
        return reference_in(response.content)

    async def _post(
        self, content: bytes, headers: dict[str, str], what: str
    ) -> httpx.Response:
        seconds = self.config.timeout_seconds
        try:
            # One bound on the whole exchange, connect to last byte.
            async with asyncio.timeout(seconds):
                async with httpx.AsyncClient(timeout=seconds) as client:
                    return await client.post(
                        str(self.config.url), content=content, headers=headers
                    )
        except (TimeoutError, httpx.TimeoutException):
            raise RecipientUnavailable(
                f"{what}: the endpoint did not answer within {seconds:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise RecipientUnavailable(
                f"{what}: the endpoint cannot be reached ({type(error).__name__})"
            ) from None

    def _verify(self, response: httpx.Response, what: str) -> None:
        given = response.headers.get(SIGNATURE_HEADER)
        if given is None and not self.config.require_signed_reply:
            return
        expected = signature(self.config.secret, response.content)
        if given is None or not hmac.compare_digest(given, expected):
            state = "unsigned" if given is None else "signed with another secret"
            raise ReplyUnverified(f"{what}: the endpoint's reply is {state}")


def envelope(request: StepRequest, integration: str, body: Body) -> dict[str, Any]:
    """What is posted: the same bytes for every attempt of one request."""
    return {
        "integration": integration,
        "case_id": request.case_id,
        "episode_id": request.episode_id,
        "step": request.step.value,
        "item": request.item,
        "due": request.due.isoformat(),
        "idempotency_key": request.idempotency_key,
        "body": body,
    }


def reference_in(content: bytes) -> str | None:
    """The agency's reference in a reply, if it is JSON and holds one."""
    try:
        reply = json.loads(content) if content.strip() else None
    except ValueError:
        return None
    reference = reply.get("reference") if isinstance(reply, dict) else None
    if isinstance(reference, str) and 0 < len(reference.strip()) <= REFERENCE_MAX:
        return reference.strip()
    return None
