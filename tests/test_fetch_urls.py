"""URLs at the fetch boundary (issue 16 class 1) and secrets in URLs (class 8): every URL parsed
and written again, http(s) only, nothing that can end a line; a URL's secrets never shown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.cli.status import gather
from digest.config import Config
from digest.fetch import FetchReport, SourceOutcome
from digest.fetch.normalize import URL_CHARS, http_url
from digest.http import redact_text, redact_url
from digest.runs import DailyReport, write_run_record
from digest.store import Store


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://e.org/a", "https://e.org/a"),
        ("  https://e.org/a\n", "https://e.org/a"),  # surrounding space is no part of it
        ("HTTPS://User:Pass@E.Org:443/a?b=1#c", "https://e.org/a?b=1#c"),
        ("http://e.org:8080", "http://e.org:8080/"),
        ("https://e.org/a b/c d?q=x y", "https://e.org/a%20b/c%20d?q=x%20y"),
        ("https://e.org/wiki/Foo_(bar)", "https://e.org/wiki/Foo_(bar)"),
        (
            "https://e.org/한국어?q=검색",
            "https://e.org/%ED%95%9C%EA%B5%AD%EC%96%B4?q=%EA%B2%80%EC%83%89",
        ),
        ("https://한국.kr/a", "https://xn--3e0b707e.kr/a"),
        ("https://e.org/100%", "https://e.org/100%25"),
        ("https://e.org/a%20b", "https://e.org/a%20b"),
        ('https://e.org/"<x>"', "https://e.org/%22%3Cx%3E%22"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ],
)
def test_urls_are_written_again(url: str, clean: str) -> None:
    assert http_url(url) == clean


@pytest.mark.parametrize(
    "url",
    [
        "https://e.org/a\nb",
        "https://e.org/a\rb",
        "https://e.org/a\x85b",
        "https://e.org/a\u2028b",
        "https://e.org/a\u2029b",
        "https://e.org/a\x0bb",
        "https://e.org/a\x00b",
        "https://e.org/a\tb",
        "https://e.org/)\n### [Click me](javascript:alert(1))",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "ftp://e.org/a",
        "//e.org/a",
        "/relative",
        "https://",
        "https://e.org:99999/",
        "https://e.org:port/",
        "https://evil.example\\@good.example/",
        "https://e .org/",
        "https://e..org/",
        "https://[not-ipv6]/",
        "https://e.org/" + "a" * URL_CHARS,
    ],
)
def test_urls_that_are_refused(url: str) -> None:
    assert http_url(url) == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_a_written_url_is_one_printable_ascii_line(tail: str) -> None:
    for candidate in ("https://e.org/" + tail, tail):
        clean = http_url(candidate)
        if clean:
            assert clean.isascii() and clean.isprintable() and " " not in clean
            assert clean.startswith(("http://", "https://"))
            assert http_url(clean) == clean


# secrets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://e.org/feed.xml?token=SECRET", "https://e.org/feed.xml?token=***"),
        (
            "https://e.org/f?api_key=A&page=2&X-Amz-Signature=S&sig=G&auth=H&password=P",
            "https://e.org/f?api_key=***&page=2&X-Amz-Signature=***&sig=***&auth=***&password=***",
        ),
        ("https://user:pw@e.org/f", "https://***@e.org/f"),
        ("https://e.org/cb#access_token=T&x=1", "https://e.org/cb#access_token=***&x=1"),
        ("https://e.org/f?q=token", "https://e.org/f?q=token"),  # a value, not a name
        ("https://e.org/plain", "https://e.org/plain"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_finds_every_url_and_keeps_the_sentence() -> None:
    text = (
        "private — http://127.0.0.1:5/feed.xml?token=PRIVATE-1: body larger than 10 bytes; "
        "redirected to https://u:p@x.org/a?key=K."
    )
    assert redact_text(text) == (
        "private — http://127.0.0.1:5/feed.xml?token=***: body larger than 10 bytes; "
        "redirected to https://***@x.org/a?key=***."
    )


def test_old_run_records_and_fetch_states_are_shown_redacted(tmp_path: Path) -> None:
    """A state folder written before redaction still shows no secret in `digest status`."""
    config = Config.model_validate(
        {
            "sections": [{"id": "news", "title": "뉴스", "sources": [
                {"id": "private", "type": "rss", "url": "https://e.org/f?token=OLD-SECRET"}]}],
            "base_dir": tmp_path,
            "state_dir": "state",
        }
    )  # fmt: skip
    runs = config.state_path / "runs"
    runs.mkdir(parents=True)
    leaked = "private — https://e.org/f?token=OLD-SECRET: HTTP 500"
    record = {"date": "2026-11-23", "summary": leaked, "error": leaked,
              "sources": [{"source_id": "private", "error": leaked}]}  # fmt: skip
    (runs / "20261123T070000.json").write_text(json.dumps(record), encoding="utf-8")
    with Store(config.state_path) as store:
        store.record_fetch(
            "private", "https://e.org/f?token=OLD-SECRET", datetime.now(UTC), error=leaked
        )
    state = gather(config, 5)
    shown = json.dumps([state.runs, [f.last_error for f in state.failing]])
    assert "OLD-SECRET" not in shown and "token=***" in shown


def test_a_run_report_never_writes_a_secret(tmp_path: Path) -> None:
    config = Config.model_validate(
        {"sections": [{"id": "n", "title": "뉴스", "sources": [{"id": "s", "type": "rss", "url": "x"}]}],
         "base_dir": tmp_path, "state_dir": "state"}
    )  # fmt: skip
    failed = SourceOutcome("s", error="https://e.org/f?token=T1: HTTP 500")
    report = DailyReport(
        date(2026, 11, 23), fetch=FetchReport([failed]), error="x?key=K2 https://a:b@e.org/"
    )
    assert "T1" not in report.summary_line() and "token=***" in report.summary_line()
    write_run_record(config, report)
    written = "".join(p.read_text() for p in (config.state_path / "runs").glob("*.json"))
    assert "T1" not in written and "a:b@" not in written
