"""The environment over the configuration file: which variable sets which key.

``CSEC__<TABLE>__<KEY>`` sets any key (``CSEC__WEBHOOKS__<NAME>__<KEY>`` in
a webhook's table); the names in ``NAMED`` set theirs too. ``<NAME>_FILE``
reads the value from the file it names. A value that is empty or only
blanks is no value. The keys in ``SECRETS`` are set here only, never in the
file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# A key's path from its table: ("smtp", "host"), ("webhooks", "ncmec", "url").
Key = tuple[str, ...]

PREFIX = "CSEC__"
# Names that other tools read, or that this project documented first.
NAMED: dict[str, Key] = {
    "CASE_RECORD_PATH": ("case_record", "path"),
    "CASE_RECORD_URL": ("case_record", "url"),
    "TEMPORAL_ADDRESS": ("temporal", "address"),
    "TEMPORAL_NAMESPACE": ("temporal", "namespace"),
    "TEMPORAL_TLS": ("temporal", "tls"),
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": ("temporal", "server_ca_cert_path"),
    "TEMPORAL_TLS_CLIENT_CERT_PATH": ("temporal", "client_cert_path"),
    "TEMPORAL_TLS_CLIENT_KEY_PATH": ("temporal", "client_key_path"),
    "TEMPORAL_TLS_SERVER_NAME": ("temporal", "server_name"),
    "TEMPORAL_API_KEY": ("temporal", "api_key"),
}
# The database URL holds its password; "*" is any integration.
SECRETS: frozenset[Key] = frozenset(
    {
        ("case_record", "url"),
        ("smtp", "password"),
        ("temporal", "api_key"),
        ("webhooks", "*", "secret"),
    }
)


def override(
    data: dict[str, Any], env: Mapping[str, str], tables: Sequence[str]
) -> dict[Key, str]:
    """Put the environment's values into ``data``, the file's tables.

    Returns:
        The variable that set each key, for errors to name.

    Raises:
        ValueError: a variable names no key, or two set the same one.
    """
    origins: dict[Key, str] = {}
    for name in sorted(env):
        base = name.removesuffix("_FILE")
        key = NAMED.get(base) or (
            env_key(base, tables) if base.startswith(PREFIX) else None
        )
        if key is None:
            continue
        value = env[name] if base == name else read_value(name, env[name])
        if not value.strip():
            continue
        if key in origins:
            raise ValueError(
                f"{origins[key]} and {name}: both set {dotted(key)}; set one"
            )
        origins[key] = name
        table = data
        for part in key[:-1]:
            table = table.setdefault(part, {})
        table[key[-1]] = value.strip()
    return origins


def env_key(name: str, tables: Sequence[str]) -> Key:
    """The key a ``CSEC__`` variable names."""
    key = tuple(name.removeprefix(PREFIX).lower().split("__"))
    if key[0] not in tables:
        raise ValueError(f"{name}: {key[0]} is not a known table")
    depth = 3 if key[0] == "webhooks" else 2
    if len(key) != depth or not all(key):
        example = "WEBHOOKS__NCMEC__SECRET" if depth == 3 else "SMTP__HOST"
        raise ValueError(f"{name}: must name one key, as {PREFIX}{example}")
    return key


def read_value(name: str, path: str) -> str:
    """A ``_FILE`` variable's value: the content of the file it names."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{name}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None


def leaves(data: dict[str, Any], at: Key = ()) -> list[Key]:
    """Every key set in ``data``, tables opened."""
    found: list[Key] = []
    for name, value in data.items():
        key = (*at, name)
        found += leaves(value, key) if isinstance(value, dict) else [key]
    return found


def secret(key: Key) -> bool:
    return key in SECRETS or (len(key) == 3 and (key[0], "*", key[2]) in SECRETS)


def variable(key: Key) -> str:
    """The variable that sets a key: its documented name, or the generic."""
    named = [name for name, named_key in NAMED.items() if named_key == key]
    return named[0] if named else PREFIX + "__".join(key).upper()


def dotted(key: Key) -> str:
    return ".".join(key)
