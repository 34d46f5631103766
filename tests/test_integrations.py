"""One episode on real integrations: e-mail, webhooks and PostgreSQL.

The episode workflow runs on the time-skipping server with every step its
adapter can do set to ``automatic``: the agencies and the case system are
reached by webhook (an HTTP server on loopback), the parties and staff by
e-mail (an SMTP server on loopback), and the record is in PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from activities import AdapterConfig, PostgresCaseRecord, build_activities
from activities.webhook import SIGNATURE_HEADER, signature
from simulation import replay
from tests.loopback_servers import SMTP_LOGIN, WEBHOOK_SECRET
from tests.test_case_record import RECEIVED_AT, payload
from worker import bin_path
from workflows.steps import STEPS

AGENCIES = ("case_record", "law_enforcement", "court", "ncmec", "district_attorney")
SUPERVISOR_EMAIL = "vantongeren@probation.example"


def integrations(smtp_port: int, http_port: int, postgres_url: str) -> AdapterConfig:
    return AdapterConfig.model_validate(
        {
            "case_record_url": postgres_url,
            **{name: "webhook" for name in AGENCIES},
            "notifications": "email",
            "staff_messages": "email",
            "smtp": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "sender": "protocol@probation.example",
                "security": "none",
                "username": SMTP_LOGIN[0],
                "password": SMTP_LOGIN[1],
            },
            "webhooks": {
                name: {
                    "url": f"http://127.0.0.1:{http_port}/{name}",
                    "secret": WEBHOOK_SECRET,
                    "require_signed_reply": True,
                }
                for name in AGENCIES
            },
        }
    )


def scenario() -> dict[str, Any]:
    """Every adapter step automatic; the youth is found after three days."""
    located_at = RECEIVED_AT + timedelta(days=3)
    supervisor = {"id": "spo-9", "name": "Supervisor V", "email": SUPERVISOR_EMAIL}
    return {
        "title": "Every adapter step done by e-mail and webhook",
        "report": payload(supervisor=supervisor),
        "modes": {
            name.value: "automatic"
            for name, step in STEPS.items()
            if step.done_by == "adapter"
        },
        "events": [
            {
                "at": located_at.isoformat(),
                "action": "located",
                "place": "bus station",
                "found_by": "Santa Rosa PD",
            }
        ],
        "until": (located_at + timedelta(hours=2)).isoformat(),
    }


async def test_episode_runs_on_email_webhooks_and_postgres(
    tmp_path, mail_server, endpoint, postgres_url
):
    smtp, smtp_port = mail_server
    http, http_port = endpoint
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario()))
    config = integrations(smtp_port, http_port, postgres_url)

    result = await replay(
        path, bin_path("temporal-test-server"), lambda _: build_activities(config)
    )

    steps = result.outcome["steps"]
    done = {name: step["state"] for name, step in steps.items()}
    assert done == {
        "law_enforcement_report": "done",
        "ncic_entry_confirmed": "done",
        "warrant_request": "done",
        "ncmec_report": "done",
        "missing_documentation": "done",
        "abuse_report": "done",
        # Only p1 has an e-mail address; p3 is never told. The others are
        # the officer's to reach, and the supervisor heard they were not.
        "party_notifications": "missed",
        "return_notifications": "done",
        "debrief": "pending",
    }
    assert steps["party_notifications"]["items"] == {
        "p1": "done",
        "p2": "missed",
        "p3": "not_applicable",
        "p4": "missed",
        "p5": "missed",
    }
    assert result.outcome["escalated_steps"] == ["party_notifications"]
    assert len(result.status.record.failed_effects) == 3

    mailed = [(message["To"], message["Subject"]) for message in smtp.messages]
    assert sorted(mailed) == sorted(
        [
            ("larkspurr@example.org", "Case J-27-0412: youth reported missing"),
            ("larkspurr@example.org", "Case J-27-0412: youth located"),
            (
                "brambleworth@probation.example",
                "Reminder: party_notifications, case J-27-0412",
            ),
            (SUPERVISOR_EMAIL, "Overdue: party_notifications, case J-27-0412"),
        ]
    )

    posted = sorted(path for path, _, _ in http.requests)
    assert posted == sorted(
        ["/law_enforcement"] * 4
        + ["/court"] * 2
        + ["/ncmec"] * 2
        + ["/district_attorney", "/case_record"]
    )
    for _, headers, body in http.requests:
        assert headers[SIGNATURE_HEADER] == signature(SecretStr(WEBHOOK_SECRET), body)

    record = PostgresCaseRecord(postgres_url)
    episode_id = result.status.episode_id
    submissions = record.submissions(episode_id)
    by_webhook = [row for row in submissions if row["integration"] in AGENCIES]
    assert len(by_webhook) == len(http.requests)
    assert {row["reference"] for row in by_webhook} == {"SRPD-27-04417"}
    assert [row["sent_at"] is not None for row in record.notices(episode_id)] == [
        True,
        True,
    ]
