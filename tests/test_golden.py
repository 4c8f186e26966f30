"""Golden output: the bundled sample, built with the clock and timezone pinned, must match the
committed files byte for byte. After an intended change: UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import copy_example

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def built_sample(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_example(tmp_path)
    monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
    monkeypatch.setenv("DIGEST_SUMMARIZER_BACKEND", "extractive")  # golden text needs no model
    result = run_cli(
        "--config", str(folder / "feeds.yaml"), "daily", "--date", "2026-04-30", "--no-send"
    )
    assert result.code == 0, result.err
    dry = run_cli("--config", str(folder / "feeds.yaml"), "send", "--dry-run")
    assert dry.code == 0, dry.err
    return tmp_path


@pytest.mark.parametrize(
    ("built", "golden"),
    [
        ("examples/issues/0001.md", "0001.md"),
        ("site/issues/0001/index.html", "issue-0001.html"),
        ("site/index.html", "index.html"),
        ("site/feed.xml", "feed.xml"),
        ("outbox/0001/email.html", "email.html"),
    ],
)
def test_sample_matches_golden(built_sample: Path, built: str, golden: str) -> None:
    actual = (built_sample / built).read_text(encoding="utf-8")
    expected_path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")
