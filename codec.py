"""Payload encryption: Temporal stores only ciphertext about a youth.

Every client and worker of this project converts with ``data_converter``:
pydantic JSON, then AES-256-GCM on every payload, failure messages and stack
traces included, so the server, its database and the Web UI never hold a
name in plain text.

Keys come from the file named by ``CSEC_KEYS_FILE`` or from ``CSEC_KEYS``,
never from the repository: one ``key_id:base64`` per line (in ``CSEC_KEYS``,
lines or commas), 32 random bytes each. The first key seals new payloads;
every key listed opens the payloads it sealed, so a rotated key stays listed
until nothing open was sealed with it. ``python codec.py new-key FILE`` puts
a fresh current key at the top of a key file, creating it readable by its
owner only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

KEYS_FILE_ENV = "CSEC_KEYS_FILE"
KEYS_ENV = "CSEC_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID_FIELD = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyConfigError(ValueError):
    """Keys that cannot be used; nothing was started.

    The message names the source, the line and the key id, never key bytes.
    """


class UnreadablePayload(Exception):
    """A payload this process cannot decrypt.

    Its key id is not among the keys loaded, or the key of that id is not the
    one that sealed it. A worker stops on it rather than fail the same
    workflow task forever; see ``worker.serve``.
    """

    def __init__(self, message: str, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


@dataclass(frozen=True)
class KeyRing:
    """The keys a process holds: ``current`` seals, every one opens.

    Attributes:
        current: The id of the key that seals new payloads.
        keys: Key id to 32 key bytes, ``current`` among them.
    """

    current: str
    keys: Mapping[str, bytes] = dataclasses.field(repr=False)

    @classmethod
    def generate(cls, key_id: str = "ephemeral") -> KeyRing:
        """One fresh key, for a server that lives and dies with this process."""
        return cls(key_id, {key_id: secrets.token_bytes(KEY_BYTES)})


def new_key_line(key_id: str) -> str:
    """A fresh ``key_id:base64`` line."""
    if not KEY_ID.fullmatch(key_id):
        raise KeyConfigError(f"key id {key_id!r}: use letters, digits, . _ -")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def parse_keys(text: str, source: str) -> KeyRing:
    """Read ``key_id:base64`` entries; the first is the current key.

    Blank lines and lines starting with ``#`` are skipped.

    Raises:
        KeyConfigError: an entry is malformed, short, repeated, or none is
            given; the message names ``source`` and the line, not the key.
    """
    keys: dict[str, bytes] = {}
    entries = text.replace(",", "\n").splitlines()
    for number, line in enumerate(entries, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source} entry {number}"
        key_id, colon, encoded = line.partition(":")
        key_id = key_id.strip()
        if not colon or not KEY_ID.fullmatch(key_id):
            raise KeyConfigError(
                f"{where}: must be key_id:base64, the id of letters, digits, . _ -"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise KeyConfigError(f"{where}: key {key_id} is not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyConfigError(
                f"{where}: key {key_id} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
            )
        if key_id in keys:
            raise KeyConfigError(f"{where}: key {key_id} is listed twice")
        keys[key_id] = key
    if not keys:
        raise KeyConfigError(f"{source}: holds no key")
    return KeyRing(current=next(iter(keys)), keys=keys)


def read_key_file(path: Path) -> KeyRing:
    """The keys in a file that only its owner may read.

    Raises:
        KeyConfigError: the file is missing, readable by others, or wrong.
    """
    source = f"{KEYS_FILE_ENV} {path}"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KeyConfigError(f"{source}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise KeyConfigError(f"{source}: not UTF-8 text") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyConfigError(
            f"{source}: readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    return parse_keys(text, source)


def load_keys(environ: Mapping[str, str] | None = None) -> KeyRing:
    """The keys from ``CSEC_KEYS_FILE`` or ``CSEC_KEYS``, exactly one set.

    Raises:
        KeyConfigError: neither or both are set, or the keys are wrong.
    """
    environ = os.environ if environ is None else environ
    path, inline = environ.get(KEYS_FILE_ENV), environ.get(KEYS_ENV)
    if path and inline:
        raise KeyConfigError(f"set {KEYS_FILE_ENV} or {KEYS_ENV}, not both")
    if path:
        return read_key_file(Path(path))
    if inline:
        return parse_keys(inline, KEYS_ENV)
    raise KeyConfigError(
        f"no encryption key: set {KEYS_FILE_ENV} to a key file "
        f"(`python codec.py new-key FILE` makes one) or {KEYS_ENV}"
    )


def add_key(path: Path, key_id: str | None = None) -> str:
    """Put a fresh current key at the top of a key file; returns its id.

    The file is created, or rewritten in place, readable by its owner only;
    the keys already in it stay, to open what they sealed.
    """
    key_id = key_id or datetime.now(UTC).strftime("k%Y%m%d%H%M%S")
    kept = read_key_file(path) if path.exists() else None
    if kept is not None and key_id in kept.keys:
        raise KeyConfigError(f"{KEYS_FILE_ENV} {path}: key {key_id} exists")
    old = path.read_text(encoding="utf-8") if kept is not None else ""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created with its mode, so no moment exists where others may read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(f"{new_key_line(key_id)}\n{old}")
    return key_id


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole payload, its metadata included.

    A sealed payload is ``nonce || ciphertext+tag`` with a fresh random
    12-byte nonce, encoding ``binary/encrypted`` and the key's id in
    ``encryption-key-id``; the id is also the associated data, so a payload
    cannot be passed off as sealed by another key. A payload that was never
    sealed (a history older than encryption) is passed through on decode.
    """

    def __init__(
        self,
        keys: KeyRing,
        on_unreadable: Callable[[UnreadablePayload], None] | None = None,
    ) -> None:
        self.current = keys.current
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}
        self.on_unreadable = on_unreadable

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.unseal(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        """Encrypt one payload with the current key."""
        key_id = self.current.encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self.ciphers[self.current].encrypt(
            nonce, payload.SerializeToString(), key_id
        )
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_FIELD: key_id},
            data=nonce + sealed,
        )

    def unseal(self, payload: Payload) -> Payload:
        """Decrypt one payload with the key it names.

        Raises:
            UnreadablePayload: its key is not loaded, or does not open it.
        """
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_FIELD, b"").decode(errors="replace")
        # Only an id of our own form is repeated in a message.
        key_id = raw_id if KEY_ID.fullmatch(raw_id) else "(malformed)"
        cipher = self.ciphers.get(raw_id)
        if cipher is None:
            self.fail(
                f"a payload is sealed with key {key_id}, which this process "
                f"does not hold; add it to {KEYS_FILE_ENV} (after the current "
                "key) and restart",
                key_id,
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, raw_id.encode())
        except InvalidTag:
            self.fail(
                f"a payload sealed with key {key_id} does not open with the "
                f"key of that id held here: the key is not the one that "
                "sealed it, or the payload was altered",
                key_id,
            )
        return Payload.FromString(plain)

    def fail(self, message: str, key_id: str) -> NoReturn:
        error = UnreadablePayload(message, key_id)
        if self.on_unreadable is not None:
            self.on_unreadable(error)
        raise error


def data_converter(
    keys: KeyRing,
    on_unreadable: Callable[[UnreadablePayload], None] | None = None,
) -> DataConverter:
    """The pydantic JSON converter, sealing every payload with ``keys``.

    Failure messages and stack traces move into an encoded (so sealed)
    attribute; the server sees only "Encoded failure".

    Args:
        keys: The key ring; its current key seals.
        on_unreadable: Called with the error before a payload that cannot be
            opened raises; a worker uses it to stop.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys, on_unreadable),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    new_key = commands.add_parser(
        "new-key", help="put a fresh current key at the top of a key file"
    )
    new_key.add_argument("file", type=Path)
    new_key.add_argument("--id", help="the key's id (default: k + UTC time)")
    args = parser.parse_args(argv)
    try:
        key_id = add_key(args.file, args.id)
    except KeyConfigError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"key {key_id} now seals new payloads; the keys after it still open")
    return 0


if __name__ == "__main__":
    sys.exit(main())
