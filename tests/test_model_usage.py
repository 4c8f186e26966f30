"""Tokens and cost of a day's model work: `digest daily` through the `openai` backend (a local
fake server that reports `usage`), the run record's `summarizer` block, the summary line and
`digest status`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from conftest import Newsroom
from test_openai_backend import ChatServer

from digest.runs import DailyReport


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer()
    yield s
    s.close()


def _use_server(room: Newsroom, url: str, **extra: object) -> None:
    settings = yaml.safe_load(room.config.read_text(encoding="utf-8"))
    settings["summarizer"] = {"backend": "openai", "model": "m", "base_url": url, **extra}
    room.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def test_the_run_record_and_status_show_tokens_and_cost(
    run_cli, newsroom: Newsroom, server: ChatServer
) -> None:
    _use_server(newsroom, server.url, api="completion", price_per_1k_tokens=0.25)
    result = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    assert result.code == 0, result.err
    (path,) = (newsroom.path / ".digest" / "runs").glob("*.json")
    record = json.loads(path.read_text())
    used = record["summarizer"]
    asked = len(server.requests)  # first tries and retries
    assert used["requests"] == asked and used["briefs"] == record["briefs_added"]
    assert used["prompt_tokens"] == 120 * asked and used["completion_tokens"] == 40 * asked
    assert used["cost"] == pytest.approx(160 * asked * 0.25 / 1000)
    assert used["models"] == ["openai:m+completion"] and used["seconds_per_brief"] > 0
    rows = used["items"]
    assert len(rows) == used["briefs"] and sum(r["requests"] for r in rows) == asked
    assert all(r["model"] == "openai:m+completion" and r["seconds"] >= 0 for r in rows)
    assert f"{160 * asked:,} tokens, cost " in record["summary"]

    status = run_cli("--config", str(newsroom.config), "status")
    assert f"{160 * asked:,} tokens" in status.out
    as_json = json.loads(run_cli("--config", str(newsroom.config), "status", "--json").out)
    assert as_json["runs"][0]["summarizer"]["tokens"] == 160 * asked

    again = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    assert again.code == 3 and len(server.requests) == asked  # all cached: no request, no cost


def test_a_run_without_model_work_has_no_usage_in_its_line() -> None:
    from datetime import date

    report = DailyReport(date(2026, 4, 30), added=3)
    assert "tokens" not in report.summary_line() and report.to_json()["summarizer"] is None
    report.summarizer = {"tokens": 12345, "cost": None}
    assert "3 briefs (0 cached, 12,345 tokens)" in report.summary_line()
    report.summarizer = {"tokens": 12345, "cost": 0.0123456}
    assert "12,345 tokens, cost 0.01235)" in report.summary_line()


def test_draft_says_what_its_model_work_cost(
    run_cli, newsroom: Newsroom, server: ChatServer
) -> None:
    _use_server(newsroom, server.url, api="completion", price_per_1k_tokens=0.25)
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "fetch").code == 0
    result = run_cli(*cfg, "draft", "--date", "2026-04-30")
    assert result.code == 0, result.err
    asked = len(server.requests)
    assert asked and f"cached, {160 * asked:,} tokens, cost {160 * asked * 0.25 / 1000:.4g})" in (
        result.out + result.err
    )
