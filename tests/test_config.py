"""One configuration: the TOML file, the environment over it, checked at start.

A broken rule is one line naming the key, the variable that set it if one
did, and the rule; a secret's value never appears in it, and a secret
written in the file is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import starter
import worker
from activities.config import ADAPTERS
from activities.smtp import SmtpConfig
from activities.webhook import WebhookConfig
from config import CaseRecordTable, ConfigError, load_config
from connection import TemporalSettings
from telemetry import MetricsConfig
from tests.helpers import free_port
from workflows.settings import CountySettings
from workflows.steps import STEPS, mode_of

EXAMPLE = Path(__file__).resolve().parent.parent / "county.example.toml"
# A commented-out setting or table in the example: "# key = value", "# [x]".
SETTING = re.compile(r"^# (\[[a-z_.]+\]|[a-z_]+ = .*)$")
SECRET = "a-webhook-secret-of-at-least-32-characters"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def keys_of(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_example_file_documents_every_key():
    text = EXAMPLE.read_text()
    documented = set(re.findall(r"^#? ?([a-z_]+) = ", text, re.MULTILINE))
    tables = set(re.findall(r"^#? ?\[([a-z_.]+)\]", text, re.MULTILINE))

    assert keys_of(CountySettings) - {"modes"} <= documented
    assert {
        name.value for name, step in STEPS.items() if step.done_by == "adapter"
    } <= (documented)
    assert set(ADAPTERS) <= documented
    for model in (SmtpConfig, WebhookConfig, TemporalSettings, MetricsConfig):
        for key in keys_of(model) - {"password", "secret", "api_key"}:
            assert key in documented, f"{model.__name__}.{key}"
    assert "path" in documented
    # Secrets are named by their variable, never given a value.
    for variable in (
        "CASE_RECORD_URL",
        "CSEC__SMTP__PASSWORD",
        "CSEC__WEBHOOKS__NCMEC__SECRET",
        "TEMPORAL_API_KEY",
    ):
        assert variable in text
    assert {"county", "modes", "case_record", "adapters", "smtp"} <= tables
    assert {"webhooks.ncmec", "temporal", "metrics"} <= tables
    assert keys_of(CaseRecordTable) == {"path", "url"}


def test_example_file_is_the_defaults():
    config = load_config(EXAMPLE, {})

    assert config.county.model_dump(exclude={"modes"}) == (
        CountySettings().model_dump(exclude={"modes"})
    )
    assert all(
        mode_of(name, config.county) == mode_of(name, CountySettings())
        for name in STEPS
    )
    assert config.temporal == TemporalSettings()
    assert config.metrics == MetricsConfig()
    assert config.adapters is not None
    assert config.adapters.case_record_path == Path("state/case_record")


def test_example_file_uncommented_holds_with_secrets_from_the_environment(tmp_path):
    lines = [
        line[2:] if SETTING.match(line) else line
        for line in EXAMPLE.read_text().splitlines()
    ]
    path = tmp_path / "county.toml"
    path.write_text("\n".join(lines))
    pem = tmp_path / "pem"
    pem.write_text(PEM)
    environ = {
        "CSEC__SMTP__PASSWORD": "smtp password",
        "CSEC__WEBHOOKS__LAW_ENFORCEMENT__SECRET": SECRET,
        "CSEC__WEBHOOKS__NCMEC__SECRET": SECRET,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pem),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pem),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pem),
    }

    config = load_config(path, environ)

    assert config.adapters is not None and config.adapters.smtp is not None
    assert config.adapters.smtp.password is not None
    assert config.adapters.webhooks.ncmec is not None
    assert config.metrics.prometheus == "127.0.0.1:9464"
    assert config.connection().security == "mtls"


def test_environment_overrides_the_file_typed(tmp_path):
    path = tmp_path / "county.toml"
    path.write_text('[county]\ndebrief_hours = 72\n[temporal]\naddress = "a:1"\n')
    url = "postgresql://case_record:pw@db/case_record"

    config = load_config(
        path,
        {
            "CSEC__COUNTY__DEBRIEF_HOURS": "48",
            "CSEC__MODES__NCMEC_REPORT": "automatic",
            "TEMPORAL_ADDRESS": "temporal.county.internal:7233",
            "CSEC__TEMPORAL__TLS": "true",
            "CSEC__METRICS__PROMETHEUS": "0.0.0.0:9464",
            "CASE_RECORD_URL": url,
            "CSEC__ADAPTERS__NOTIFICATIONS": "email",
            "CSEC__SMTP__HOST": "127.0.0.1",
            "CSEC__SMTP__PORT": "2525",
            "CSEC__SMTP__SENDER": "protocol@probation.example",
            "CSEC__SMTP__SECURITY": "none",
            "UNRELATED": "ignored",
        },
    )

    assert config.county.debrief_hours == 48
    assert config.county.modes == {"ncmec_report": "automatic"}
    assert config.temporal.address == "temporal.county.internal:7233"
    assert config.temporal.tls is True and config.connection().tls is True
    assert config.metrics.prometheus == "0.0.0.0:9464"
    assert config.adapters is not None and config.adapters.smtp is not None
    assert config.adapters.smtp.port == 2525
    assert config.adapters.case_record_url is not None
    assert config.adapters.case_record_url.get_secret_value() == url


def test_secret_is_read_from_a_file_variable(tmp_path):
    secret_file = tmp_path / "case-record-url"
    secret_file.write_text("postgresql://case_record:pw@db/case_record\n")

    config = load_config(None, {"CASE_RECORD_URL_FILE": str(secret_file)})

    assert config.adapters is not None and config.adapters.case_record_url is not None
    url = config.adapters.case_record_url.get_secret_value()
    assert url == "postgresql://case_record:pw@db/case_record"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[smtp]\nhost = "h"\nsender = "a@b"\npassword = "Hunter2-sesame"\n',
            "smtp.password: is a secret; set it in the environment "
            "(CSEC__SMTP__PASSWORD), not in the file",
        ),
        (
            '[webhooks.ncmec]\nurl = "https://x"\nsecret = "Hunter2-sesame"\n',
            "webhooks.ncmec.secret: is a secret; set it in the environment "
            "(CSEC__WEBHOOKS__NCMEC__SECRET), not in the file",
        ),
        (
            '[case_record]\nurl = "postgresql://u:Hunter2-sesame@db/r"\n',
            "case_record.url: is a secret; set it in the environment "
            "(CASE_RECORD_URL), not in the file",
        ),
        (
            '[temporal]\napi_key = "Hunter2-sesame"\n',
            "temporal.api_key: is a secret; set it in the environment "
            "(TEMPORAL_API_KEY), not in the file",
        ),
    ],
)
def test_secret_in_the_file_is_refused(tmp_path, text, message):
    path = tmp_path / "county.toml"
    path.write_text(text)

    with pytest.raises(ConfigError) as raised:
        load_config(path, {})

    assert str(raised.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (
            "[county]\nreminder_lead_days = 0\n",
            {},
            "county.reminder_lead_days: Input should be greater than 0",
        ),
        (
            "",
            {"CSEC__COUNTY__DEBRIEF_HOURS": "Hunter2-sesame"},
            "county.debrief_hours (CSEC__COUNTY__DEBRIEF_HOURS): Input should "
            "be a valid number",
        ),
        (
            "",
            {"CSEC__MODES__DEBRIEF": "automatic"},
            "modes.debrief (CSEC__MODES__DEBRIEF): cannot be automatic",
        ),
        (
            '[adapters]\nncmec = "fax"\n',
            {},
            "adapters.ncmec: unknown adapter 'fax'; known: case_record, webhook",
        ),
        (
            '[adapters]\nnotifications = "email"\n',
            {},
            "smtp: is required when notifications = 'email'",
        ),
        (
            '[adapters]\nncmec = "webhook"\n',
            {},
            "webhooks: ncmec: a table is required when ncmec = 'webhook'",
        ),
        (
            '[adapters]\npolice = "webhook"\n',
            {},
            "adapters.police: is not an integration (case_record, law_enforcement",
        ),
        (
            '[webhooks.ncmec]\nurl = "http://intake.ncmec.example"\n',
            {"CSEC__WEBHOOKS__NCMEC__SECRET": "Hunter2-sesame"},
            "webhooks.ncmec.url: must be https unless the endpoint is on this "
            "machine; webhooks.ncmec.secret (CSEC__WEBHOOKS__NCMEC__SECRET): "
            "must be at least 32 characters",
        ),
        (
            '[smtp]\nhost = "mail.county.example"\nsender = "a@b"\n'
            'username = "u"\nsecurity = "none"\n',
            {},
            "smtp.security: 'none' is allowed only for a mail server on this "
            "machine; use 'starttls' or 'tls'; smtp.password "
            "(CSEC__SMTP__PASSWORD): username and password go together",
        ),
        (
            "",
            {"CASE_RECORD_URL": "mysql://u:Hunter2-sesame@db/r"},
            "case_record.url (CASE_RECORD_URL): must be a postgresql:// URL",
        ),
        (
            "",
            {"CSEC__SMTP__PORT": "Hunter2-sesame", "CSEC__SMTP__HOTS": "h"},
            "smtp.host: is required; smtp.port (CSEC__SMTP__PORT): Input should "
            "be a valid integer",
        ),
        (
            '[metrics]\nprometheus = "9464"\n',
            {},
            "metrics.prometheus: String should match pattern",
        ),
        ("[counties]\n", {}, "counties: is not a known table (county, modes,"),
        ("[county]\nmodes = {}\n", {}, "county.modes: set modes in the [modes]"),
        ("county = 3\n", {}, "county: must be a table"),
        ("[county\n", {}, "not valid TOML"),
        ("", {"CSEC__SMPT__HOST": "h"}, "CSEC__SMPT__HOST: smpt is not a known table"),
        ("", {"CSEC__SMTP": "h"}, "CSEC__SMTP: must name one key, as CSEC__SMTP__HOST"),
        (
            "",
            {"CASE_RECORD_URL": "postgresql://a", "CSEC__CASE_RECORD__URL": "x"},
            "CASE_RECORD_URL and CSEC__CASE_RECORD__URL: both set case_record.url",
        ),
        (
            "",
            {"CASE_RECORD_URL_FILE": "/nonexistent/secret"},
            "CASE_RECORD_URL_FILE: cannot be read (No such file or directory)",
        ),
    ],
)
def test_error_names_the_key_variable_and_rule_never_a_secret(
    tmp_path, text, environ, message
):
    path = tmp_path / "county.toml"
    path.write_text(text)

    with pytest.raises(ConfigError) as raised:
        load_config(path, environ)

    assert str(raised.value).startswith(f"{path}: {message}")
    assert "Hunter2-sesame" not in str(raised.value)


def test_command_line_needs_no_adapter_secrets(tmp_path):
    path = tmp_path / "county.toml"
    path.write_text('[adapters]\nnotifications = "email"\n')

    config = load_config(path, {}, adapters=False)

    assert config.adapters is None


async def test_command_line_reaches_the_cluster_in_the_file(
    tmp_path, monkeypatch, capsys
):
    address = f"127.0.0.1:{free_port()}"
    path = tmp_path / "county.toml"
    path.write_text(f'[temporal]\naddress = "{address}"\n[adapters]\nncmec = "fax"\n')
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)

    code = await starter.run(["list", "--config", str(path)])

    assert (code, capsys.readouterr().err) == (
        1,
        f"cannot reach Temporal at {address}\n",
    )


def test_worker_with_a_broken_configuration_stops_before_starting(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "county.toml"
    path.write_text('[adapters]\nstaff_messages = "email"\n')
    monkeypatch.delenv("COUNTY_CONFIG", raising=False)

    code = worker.main(["--config", str(path)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"worker not started: {path}: smtp: is required when staff_messages = 'email'\n"
    )
