"""The codec server: the token opens episodes, nothing else does.

Requests go over loopback to a real aiohttp server, as the Web UI and the
``temporal`` CLI send them (Temporal's remote codec protocol).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from codec import EncryptionCodec, new_key_line, parse_keys
from codec_server import (
    COOKIE,
    TokenConfigError,
    build_app,
    load_token,
    new_token,
)

UI = "http://127.0.0.1:8233"
TOKEN = new_token()
NAME = "Zephyrine Quillfeather"
CODEC = EncryptionCodec(parse_keys(new_key_line("k-1"), "test"))


@pytest.fixture
async def server() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_app(CODEC, TOKEN, [UI]))) as client:
        yield client


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def read(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


async def sealed() -> Payload:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=f'"{NAME}"'.encode())
    return (await CODEC.encode([plain]))[0]


async def test_decode_with_the_token_gives_the_payload(server):
    response = await server.post(
        "/decode",
        data=body(await sealed()),
        headers={"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"},
    )

    assert response.status == 200
    assert read(await response.text())[0].data == f'"{NAME}"'.encode()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}"])
async def test_decode_without_the_token_is_refused(server, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = await server.post("/decode", data=body(await sealed()), headers=headers)

    assert response.status == 401
    assert NAME not in await response.text()


async def test_encode_seals_with_the_current_key(server):
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')

    response = await server.post(
        "/encode", data=body(plain), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    encoded = read(await response.text())[0]

    assert encoded.metadata["encoding"] == b"binary/encrypted"
    assert await CODEC.decode([encoded]) == [plain]


async def test_cors_answers_the_web_ui_origin_only(server):
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }

    allowed = await server.options("/decode", headers=preflight)
    other = await server.options(
        "/decode", headers={**preflight, "Origin": "http://evil.example"}
    )
    posted = await server.post(
        "/decode",
        data=body(await sealed()),
        headers={"Origin": "http://evil.example", "Authorization": f"Bearer {TOKEN}"},
    )

    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == UI
    assert "X-Namespace" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert other.status == posted.status == 403
    assert "Access-Control-Allow-Origin" not in other.headers
    assert NAME not in await posted.text()


async def test_browser_signed_in_with_the_token_decodes_by_cookie(server):
    refused = await server.post("/login", data={"token": "guess"})
    signed_in = await server.post("/login", data={"token": TOKEN})
    cookie = signed_in.cookies[COOKIE]

    response = await server.post(
        "/decode",
        data=body(await sealed()),
        headers={"Origin": UI, "Cookie": f"{COOKIE}={cookie.value}"},
    )

    assert refused.status == 401 and COOKIE not in refused.cookies
    assert signed_in.status == 200
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == UI
    assert read(await response.text())[0].data == f'"{NAME}"'.encode()


async def test_payload_of_an_unknown_key_is_a_clear_error(server):
    other = EncryptionCodec(parse_keys(new_key_line("k-0"), "test"))
    foreign = await other.encode([Payload(data=NAME.encode())])

    response = await server.post(
        "/decode", data=body(*foreign), headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status == 422
    assert "key k-0" in (await response.json())["error"]


async def test_malformed_body_is_400(server):
    response = await server.post(
        "/decode", data="{", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status == 400


def test_token_must_be_long_and_kept_from_others(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN)
    path.chmod(0o640)

    with pytest.raises(TokenConfigError, match="readable by others"):
        load_token({"CSEC_CODEC_TOKEN_FILE": str(path)})
    with pytest.raises(TokenConfigError, match="at least 32 characters"):
        load_token({"CSEC_CODEC_TOKEN": "short"})
    with pytest.raises(TokenConfigError, match="no token"):
        load_token({})
    path.chmod(0o600)
    assert load_token({"CSEC_CODEC_TOKEN_FILE": str(path)}) == TOKEN


def test_any_origin_is_refused():
    with pytest.raises(ValueError, match="not \\*"):
        build_app(CODEC, TOKEN, ["*"])
