"""How the worker and the command line reach a Temporal cluster.

The ``[temporal]`` table of the configuration (``config.py``), each key
also read from the environment under the name the ``temporal`` CLI reads,
so one environment serves both:

    key                  variable                          meaning
    address              TEMPORAL_ADDRESS                  host:port, 127.0.0.1:7233
    namespace            TEMPORAL_NAMESPACE                default ``default``
    tls                  TEMPORAL_TLS                      true: the system's CAs
    server_ca_cert_path  TEMPORAL_TLS_SERVER_CA_CERT_PATH  the cluster's CA (PEM)
    client_cert_path     TEMPORAL_TLS_CLIENT_CERT_PATH     mTLS certificate (PEM)
    client_key_path      TEMPORAL_TLS_CLIENT_KEY_PATH      ... and its key
    server_name          TEMPORAL_TLS_SERVER_NAME          name in the certificate
    api_key              TEMPORAL_API_KEY                  an API key (Cloud)

A CA, a client certificate, a server name or an API key turns TLS on.

Certificate files are read when the settings are checked, at start, so a
missing one is an error before anything connects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from temporalio.service import TLSConfig

DEFAULT_ADDRESS = "127.0.0.1:7233"


class TemporalSettings(BaseModel):
    """The ``[temporal]`` table: where the cluster is, how to prove who we are.

    ``tls`` is validated last, so that it sees every setting that needs TLS.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(default=DEFAULT_ADDRESS, pattern=r"^\S+:\d{1,5}$")
    namespace: str = Field(default="default", min_length=1)
    server_ca_cert_path: Path | None = None
    client_cert_path: Path | None = None
    client_key_path: Path | None = Field(default=None, validate_default=True)
    server_name: str | None = None
    api_key: SecretStr | None = None
    tls: bool | None = Field(default=None, validate_default=True)

    @field_validator("server_ca_cert_path", "client_cert_path", "client_key_path")
    @classmethod
    def pem_file(cls, path: Path | None) -> Path | None:
        if path is not None:
            read_pem(path)
        return path

    @field_validator("client_key_path")
    @classmethod
    def key_with_certificate(
        cls, key: Path | None, info: ValidationInfo
    ) -> Path | None:
        if "client_cert_path" not in info.data:
            return key  # the certificate's own error says why
        if (info.data["client_cert_path"] is None) != (key is None):
            raise ValueError("set it and client_cert_path for mTLS, or neither")
        return key

    @field_validator("tls")
    @classmethod
    def tls_when_needed(cls, tls: bool | None, info: ValidationInfo) -> bool | None:
        needing = [
            name
            for name in ("server_ca_cert_path", "client_cert_path", "server_name")
            if info.data.get(name) is not None
        ] + (["api_key"] if info.data.get("api_key") is not None else [])
        if tls is False and needing:
            raise ValueError(f"is false, but these need TLS: {', '.join(needing)}")
        return tls


def read_pem(path: Path) -> bytes:
    """A PEM file's bytes.

    Raises:
        ValueError: naming the path and why it cannot be used.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path} cannot be read ({error.strerror})") from None
    if b"-----BEGIN " not in data:
        raise ValueError(f"{path} is not a PEM file")
    return data


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
    def from_settings(cls, settings: TemporalSettings) -> ConnectionConfig:
        """The connection that checked settings describe.

        A CA, a client certificate, a server name or an API key turns TLS
        on; ``tls = true`` alone uses the system's CAs.
        """
        ca, cert, key = (
            None if path is None else read_pem(path)
            for path in (
                settings.server_ca_cert_path,
                settings.client_cert_path,
                settings.client_key_path,
            )
        )
        api_key = settings.api_key
        tls: TLSConfig | bool = bool(settings.tls) or api_key is not None
        if ca is not None or cert is not None or settings.server_name is not None:
            tls = TLSConfig(
                server_root_ca_cert=ca,
                domain=settings.server_name,
                client_cert=cert,
                client_private_key=key,
            )
        return cls(
            address=settings.address,
            namespace=settings.namespace,
            tls=tls,
            api_key=None if api_key is None else api_key.get_secret_value(),
        )
