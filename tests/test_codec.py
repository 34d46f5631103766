"""The payload codec and its keys, without a server.

A payload is sealed with the current key and a fresh nonce, names its key,
and opens with any key still listed; a bad key stops the process with a
message that names the source and the key id, never the key.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from codec import (
    ENCODING,
    KEY_ID_FIELD,
    EncryptionCodec,
    KeyConfigError,
    KeyRing,
    UnreadablePayload,
    add_key,
    data_converter,
    load_keys,
    main,
    new_key_line,
    parse_keys,
    read_key_file,
)
from workflows.payload import MissingReport

NAME = "Zephyrine Quillfeather"
OLD = new_key_line("k-2026")
NEW = new_key_line("k-2027")


def plain(text: str = NAME) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_payload_is_sealed_with_a_fresh_nonce_and_names_its_key():
    codec = EncryptionCodec(parse_keys(NEW, "test"))

    first, second = await codec.encode([plain(), plain()])

    assert first.metadata["encoding"] == ENCODING
    assert first.metadata[KEY_ID_FIELD] == b"k-2027"
    assert first.data[:12] != second.data[:12]
    assert NAME.encode() not in first.data + first.SerializeToString()
    assert await codec.decode([first, second]) == [plain(), plain()]


async def test_rotated_key_still_opens_what_it_sealed():
    before = EncryptionCodec(parse_keys(OLD, "test"))
    after = EncryptionCodec(parse_keys(f"{NEW}\n{OLD}", "test"))
    sealed_before = await before.encode([plain()])

    sealed_after = await after.encode([plain()])

    assert await after.decode(sealed_before) == [plain()]
    assert sealed_after[0].metadata[KEY_ID_FIELD] == b"k-2027"
    assert await after.decode(sealed_after) == [plain()]


async def test_key_not_held_raises_naming_the_key_id_only():
    sealed = await EncryptionCodec(parse_keys(NEW, "test")).encode([plain()])
    seen: list[UnreadablePayload] = []
    old_only = EncryptionCodec(parse_keys(OLD, "test"), on_unreadable=seen.append)

    with pytest.raises(UnreadablePayload) as raised:
        await old_only.decode(sealed)

    assert raised.value.key_id == "k-2027"
    assert "key k-2027, which this process does not hold" in str(raised.value)
    assert seen == [raised.value]
    assert NAME not in str(raised.value) and NEW.split(":")[1] not in str(raised.value)


async def test_wrong_key_under_the_same_id_does_not_open_it():
    sealed = await EncryptionCodec(parse_keys(NEW, "test")).encode([plain()])
    impostor = EncryptionCodec(parse_keys(new_key_line("k-2027"), "test"))

    with pytest.raises(UnreadablePayload, match="not the one that sealed it"):
        await impostor.decode(sealed)


async def test_altered_payload_or_relabelled_key_id_does_not_open():
    keys = parse_keys(f"{NEW}\n{OLD}", "test")
    codec = EncryptionCodec(keys)
    altered, relabelled = await codec.encode([plain(), plain()])
    altered.data = altered.data[:-1] + bytes([altered.data[-1] ^ 1])
    # The id is the cipher's associated data: another id cannot claim it.
    old_key = EncryptionCodec(KeyRing("k-2026", {"k-2026": keys.keys["k-2027"]}))
    relabelled.metadata[KEY_ID_FIELD] = b"k-2026"

    with pytest.raises(UnreadablePayload):
        await codec.decode([altered])
    with pytest.raises(UnreadablePayload):
        await old_key.decode([relabelled])


async def test_payload_never_sealed_passes_through_decode():
    codec = EncryptionCodec(parse_keys(NEW, "test"))

    assert await codec.decode([plain("older history")]) == [plain("older history")]


async def test_failure_message_and_stack_trace_are_sealed():
    converter = data_converter(parse_keys(NEW, "test"))
    failure = Failure()
    try:
        raise ApplicationError(f"refused for {NAME}")
    except ApplicationError as error:
        await converter.encode_failure(error, failure)

    decoded = await converter.decode_failure(
        Failure.FromString(failure.SerializeToString())
    )

    assert failure.message == "Encoded failure" and failure.stack_trace == ""
    assert NAME.encode() not in failure.SerializeToString()
    assert str(decoded) == f"refused for {NAME}"


async def test_pydantic_models_round_trip_sealed():
    converter = data_converter(parse_keys(NEW, "test"))
    report = MissingReport.model_validate_json(
        (Path(__file__).parents[1] / "examples" / "payload.json").read_text()
    )

    sealed = await converter.encode([report])

    assert b"Fictional-Youth" not in sealed[0].SerializeToString()
    assert await converter.decode(sealed, [MissingReport]) == [report]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "test: holds no key"),
        ("# only a comment\n", "test: holds no key"),
        ("k1", "test entry 1: must be key_id:base64"),
        ("bad id!:AAAA", "test entry 1: must be key_id:base64"),
        ("k1:not*base64", "test entry 1: key k1 is not base64"),
        (f"k1:{base64.b64encode(b'x' * 16).decode()}", "key k1 is 16 bytes; AES-256"),
        (f"{OLD}\n{OLD}", "test entry 2: key k-2026 is listed twice"),
    ],
)
def test_unusable_keys_are_refused_naming_the_entry(text, message):
    with pytest.raises(KeyConfigError) as raised:
        parse_keys(text, "test")

    assert message in str(raised.value)
    assert OLD.split(":")[1] not in str(raised.value)


def test_no_key_configured_says_how_to_make_one():
    with pytest.raises(KeyConfigError, match="no encryption key: set CSEC_KEYS_FILE"):
        load_keys({})
    with pytest.raises(KeyConfigError, match="not both"):
        load_keys({"CSEC_KEYS_FILE": "keys", "CSEC_KEYS": OLD})


def test_key_file_must_be_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"{NEW}\n")
    path.chmod(0o644)

    with pytest.raises(KeyConfigError, match="readable by others .mode 644."):
        load_keys({"CSEC_KEYS_FILE": str(path)})
    with pytest.raises(KeyConfigError, match="cannot be read"):
        load_keys({"CSEC_KEYS_FILE": str(tmp_path / "missing")})
    path.chmod(0o600)
    assert load_keys({"CSEC_KEYS_FILE": str(path)}).current == "k-2027"
    assert load_keys({"CSEC_KEYS": f"{NEW},{OLD}"}).keys.keys() == {
        "k-2027",
        "k-2026",
    }


def test_new_key_goes_on_top_and_the_old_ones_stay(tmp_path, capsys):
    path = tmp_path / "state" / "keys"

    first = add_key(path, "k-1")
    code = main(["new-key", str(path), "--id", "k-2"])
    again = main(["new-key", str(path), "--id", "k-1"])
    keys = read_key_file(path)

    assert first == "k-1" and code == 0 and again == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.current == "k-2" and list(keys.keys) == ["k-2", "k-1"]
    assert "key k-1 exists" in capsys.readouterr().err
