"""Connection settings for a production cluster: TLS, mTLS, an API key.

What can be checked without a cluster: the settings build the TLS
configuration the SDK is given, and a wrong setting stops the command line
before it connects, in one line that names the variable.
"""

from __future__ import annotations

import pytest
from temporalio.service import TLSConfig

import starter
from config import ConfigError, load_config
from connection import ConnectionConfig


def from_env(environ: dict[str, str]) -> ConnectionConfig:
    return load_config(None, environ, adapters=False).connection()


PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def pem_files(tmp_path):
    files = {}
    for name in ("ca.pem", "client.pem", "client.key"):
        files[name] = tmp_path / name
        files[name].write_bytes(PEM.replace(b"CERTIFICATE", name.encode()))
    return files


def test_nothing_set_is_the_local_dev_server_in_plain_grpc():
    config = from_env({})

    assert (config.address, config.namespace) == ("127.0.0.1:7233", "default")
    assert config.tls is False and config.api_key is None
    assert config.security == "none"


def test_api_key_alone_uses_tls_with_the_system_cas():
    config = from_env(
        {
            "TEMPORAL_ADDRESS": "county.a1b2c.tmprl.cloud:7233",
            "TEMPORAL_NAMESPACE": "county.a1b2c",
            "TEMPORAL_API_KEY": "secret-api-key",
        }
    )

    assert config.tls is True and config.api_key == "secret-api-key"
    assert config.security == "tls+api_key"
    assert "secret-api-key" not in repr(config)


def test_ca_and_client_certificate_make_mutual_tls(pem_files):
    config = from_env(
        {
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pem_files["ca.pem"]),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pem_files["client.pem"]),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pem_files["client.key"]),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.county.internal",
        }
    )

    assert config.tls == TLSConfig(
        server_root_ca_cert=pem_files["ca.pem"].read_bytes(),
        domain="temporal.county.internal",
        client_cert=pem_files["client.pem"].read_bytes(),
        client_private_key=pem_files["client.key"].read_bytes(),
    )
    assert config.security == "mtls"
    assert b"client.key" not in repr(config).encode()


def test_ca_alone_is_tls_verifying_the_cluster(pem_files):
    config = from_env({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pem_files["ca.pem"])})

    assert isinstance(config.tls, TLSConfig)
    assert config.tls.server_root_ca_cert == pem_files["ca.pem"].read_bytes()
    assert config.tls.client_cert is None and config.security == "tls"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"TEMPORAL_TLS_CLIENT_CERT_PATH": "{dir}/missing.pem"},
            "temporal.client_cert_path (TEMPORAL_TLS_CLIENT_CERT_PATH): "
            "{dir}/missing.pem cannot be read (No such file or directory)",
        ),
        (
            {"TEMPORAL_TLS_CLIENT_CERT_PATH": "{dir}/client.pem"},
            "temporal.client_key_path: set it and client_cert_path for mTLS, "
            "or neither",
        ),
        (
            {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{dir}/notes.txt"},
            "temporal.server_ca_cert_path (TEMPORAL_TLS_SERVER_CA_CERT_PATH): "
            "{dir}/notes.txt is not a PEM file",
        ),
        (
            {"TEMPORAL_TLS": "maybe"},
            "temporal.tls (TEMPORAL_TLS): Input should be a valid boolean",
        ),
        (
            {"TEMPORAL_TLS": "false", "TEMPORAL_API_KEY": "k"},
            "temporal.tls (TEMPORAL_TLS): is false, but these need TLS: api_key",
        ),
    ],
)
def test_wrong_setting_is_a_clear_error(environ, message, pem_files, tmp_path):
    (tmp_path / "notes.txt").write_text("not a certificate")
    environ = {key: value.format(dir=tmp_path) for key, value in environ.items()}

    with pytest.raises(ConfigError) as raised:
        from_env(environ)

    assert message.format(dir=tmp_path) in str(raised.value)


async def test_cli_with_a_missing_certificate_stops_before_connecting(
    monkeypatch, capsys, tmp_path
):
    missing = tmp_path / "client.pem"
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(missing))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(missing))

    code = await starter.run(["list"])

    assert code == 2
    assert capsys.readouterr() == (
        "",
        "temporal.client_cert_path (TEMPORAL_TLS_CLIENT_CERT_PATH): "
        f"{missing} cannot be read (No such file or directory); "
        "temporal.client_key_path (TEMPORAL_TLS_CLIENT_KEY_PATH): "
        f"{missing} cannot be read (No such file or directory)\n",
    )
