"""How the worker and the command line reach a Temporal cluster.

Read from the environment, under the names the ``temporal`` CLI reads, so one
environment serves both:

    TEMPORAL_ADDRESS                   host:port (default 127.0.0.1:7233)
    TEMPORAL_NAMESPACE                 default ``default``
    TEMPORAL_TLS                       true: TLS with the system's CAs
    TEMPORAL_TLS_SERVER_CA_CERT_PATH   the cluster's CA (PEM); implies TLS
    TEMPORAL_TLS_CLIENT_CERT_PATH      mTLS client certificate (PEM) ...
    TEMPORAL_TLS_CLIENT_KEY_PATH       ... and its private key, both or neither
    TEMPORAL_TLS_SERVER_NAME           the name the server's certificate holds
    TEMPORAL_API_KEY                   an API key (Temporal Cloud); implies TLS

Certificate files are read once, at start, so a missing one is an error
before anything connects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.service import TLSConfig

DEFAULT_ADDRESS = "127.0.0.1:7233"
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class ConnectionConfigError(ValueError):
    """A connection setting that cannot be used; nothing was connected."""


@dataclass(frozen=True)
class ConnectionConfig:
    """Where the cluster is and how this process proves who it is.

    Attributes:
        address: The frontend's host:port.
        namespace: The namespace the episodes live in.
        tls: ``False`` for plain gRPC (the local dev server), ``True`` for
            TLS with the system's CAs, or a ``TLSConfig`` with a CA, a client
            certificate, or both.
        api_key: Sent as a bearer token; only ever over TLS.
    """

    address: str = DEFAULT_ADDRESS
    namespace: str = "default"
    tls: TLSConfig | bool = field(default=False, repr=False)
    api_key: str | None = field(default=None, repr=False)

    @property
    def security(self) -> str:
        """What protects the connection, for a log line: never a secret."""
        if self.tls is False:
            return "none"
        mutual = isinstance(self.tls, TLSConfig) and self.tls.client_cert
        kind = "mtls" if mutual else "tls"
        return f"{kind}+api_key" if self.api_key else kind

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectionConfig:
        """The configuration in the environment (see the module's table).

        Raises:
            ConnectionConfigError: naming the variable and what is wrong.
        """
        env = os.environ if environ is None else environ
        switch = _value(env, "TEMPORAL_TLS")
        if switch is not None and switch.lower() not in TRUE | FALSE:
            raise ConnectionConfigError("TEMPORAL_TLS: must be true or false")
        ca = _read_pem(env, "TEMPORAL_TLS_SERVER_CA_CERT_PATH")
        cert = _read_pem(env, "TEMPORAL_TLS_CLIENT_CERT_PATH")
        key = _read_pem(env, "TEMPORAL_TLS_CLIENT_KEY_PATH")
        server_name = _value(env, "TEMPORAL_TLS_SERVER_NAME")
        api_key = _value(env, "TEMPORAL_API_KEY")
        if (cert is None) != (key is None):
            raise ConnectionConfigError(
                "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: "
                "set both for mTLS, or neither"
            )
        wants_tls = any(x is not None for x in (ca, cert, server_name, api_key))
        if switch is not None and switch.lower() in FALSE and wants_tls:
            raise ConnectionConfigError(
                "TEMPORAL_TLS: is false, but a CA, a client certificate, a "
                "server name or an API key is set, and those need TLS"
            )
        tls: TLSConfig | bool = wants_tls or (
            switch is not None and switch.lower() in TRUE
        )
        if ca is not None or cert is not None or server_name is not None:
            tls = TLSConfig(
                server_root_ca_cert=ca,
                domain=server_name,
                client_cert=cert,
                client_private_key=key,
            )
        return cls(
            address=_value(env, "TEMPORAL_ADDRESS") or DEFAULT_ADDRESS,
            namespace=_value(env, "TEMPORAL_NAMESPACE") or "default",
            tls=tls,
            api_key=api_key,
        )


def _value(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def _read_pem(env: Mapping[str, str], name: str) -> bytes | None:
    path = _value(env, name)
    if path is None:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ConnectionConfigError(
            f"{name}: {path} cannot be read ({error.strerror})"
        ) from None
    if b"-----BEGIN " not in data:
        raise ConnectionConfigError(f"{name}: {path} is not a PEM file")
    return data
