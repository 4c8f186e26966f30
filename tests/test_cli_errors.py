"""No traceback ever reaches the user: every failure is one message and the documented exit code
(0 done · 1 failed · 2 usage or configuration · 3 nothing new · 4 a source failed), and the
traceback of a bug only with -v."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Newsroom

from digest import __version__
from digest.cli import status as status_command
from digest.glossary import GlossaryError


def one_message(result: Any) -> str:
    """The error line, after checking that it is the only thing on stderr."""
    assert "Traceback" not in result.err, result.err
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("error: ")
    return str(result.err)


def test_a_feeds_yaml_that_is_not_utf8(run_cli: Any, newsroom: Newsroom) -> None:
    text = newsroom.config.read_text(encoding="utf-8")
    newsroom.config.write_bytes(text.encode("cp949"))
    result = run_cli("--config", str(newsroom.config), "status")
    assert result.code == 2
    assert "feeds.yaml:" in one_message(result) and "— save it as UTF-8" in result.err


def test_a_feeds_yaml_that_cannot_be_read(
    run_cli: Any, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = run_cli("--config", str(newsroom.config), "status")
    assert result.code == 2
    assert "cannot read it (Permission denied)" in one_message(result)


def test_digest_config_naming_a_missing_file(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_CONFIG", str(tmp_path / "gone.yaml"))
    result = run_cli("status")
    assert result.code == 2
    assert "DIGEST_CONFIG=" in one_message(result) and "unset DIGEST_CONFIG" in result.err


def test_an_invalid_digest_now(
    run_cli: Any, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_NOW", "2026-13-45")
    result = run_cli("--config", str(newsroom.config), "daily", "--no-send")
    assert result.code == 2
    assert "DIGEST_NOW='2026-13-45' is not an ISO 8601 time" in result.err
    assert "Traceback" not in result.err


def test_an_issue_file_that_is_not_utf8(run_cli: Any, newsroom: Newsroom) -> None:
    config = str(newsroom.config)
    assert run_cli("--config", config, "daily", "--date", "2026-04-30", "--no-send").code == 0
    issue = newsroom.issue(1)
    issue.write_bytes(issue.read_text(encoding="utf-8").encode("cp949", errors="replace"))
    for command in (["build"], ["send", "--dry-run"], ["review", "list"]):
        result = run_cli("--config", config, *command)
        assert result.code in (1, 2), (command, result.err)
        assert "Traceback" not in result.err
        assert "0001.md:" in result.err and "UTF-8" in result.err


def test_a_broken_template_override_names_its_line(run_cli: Any, newsroom: Newsroom) -> None:
    config = str(newsroom.config)
    assert run_cli("--config", config, "daily", "--date", "2026-04-30", "--no-send").code == 0
    templates = newsroom.path / "templates"
    templates.mkdir()
    (templates / "email.txt.j2").write_text("제목\n{% if issue %}\n{{ issue.title }\n")
    result = run_cli("--config", config, "send", "--dry-run")
    assert result.code == 2
    message = one_message(result)
    assert f"{templates / 'email.txt.j2'}:3: template error: " in message
    assert "remove your copy from templates/" in message
    (templates / "email.txt.j2").write_text("제목\n\n{{ no_such_name }}\n")
    result = run_cli("--config", config, "send", "--dry-run")
    assert result.code == 2
    assert f"{templates / 'email.txt.j2'}:3: template error: " in one_message(result)
    assert "'no_such_name' is undefined" in result.err


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (
            GlossaryError("glossary entry 'LoRA': ko is not text"),
            2,
            "digest/data/glossary.yaml: glossary entry 'LoRA': ko is not text — fix that entry",
        ),
        (
            PermissionError(13, "Permission denied", "/srv/news/site/index.html"),
            1,
            "/srv/news/site/index.html: Permission denied — check the path",
        ),
        (
            OSError(28, "No space left on device"),
            1,
            "error: No space left on device — check the path, its permissions and free space",
        ),
        (sqlite3.OperationalError("database is locked"), 1, "state database failed"),
        (
            UnicodeDecodeError("utf-8", b"\xb1", 0, 1, "invalid start byte"),
            1,
            "a file is not UTF-8 text (byte 0xb1 on its line 1) — save it as UTF-8; -v shows",
        ),
    ],
)
def test_known_kinds_of_failure_are_one_message(
    run_cli: Any,
    newsroom: Newsroom,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    code: int,
    words: str,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise raised

    monkeypatch.setattr(status_command, "gather", fail)
    result = run_cli("--config", str(newsroom.config), "status")
    assert result.code == code
    assert words in one_message(result)


def test_a_bug_is_named_as_one_and_its_traceback_shown_only_with_v(
    run_cli: Any, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise KeyError("draft")

    monkeypatch.setattr(status_command, "gather", fail)
    result = run_cli("--config", str(newsroom.config), "status")
    assert result.code == 1
    message = one_message(result)
    assert f"unexpected KeyError: 'draft' — this is a bug in digest {__version__}" in message
    assert "please report it on" in message and "-v" in message
    verbose = run_cli("-v", "--config", str(newsroom.config), "status")
    assert verbose.code == 1
    assert "Traceback (most recent call last):" in verbose.err
    assert 'raise KeyError("draft")' in verbose.err
    assert verbose.err.rstrip().splitlines()[-1].startswith("error: unexpected KeyError")


def test_a_file_that_is_not_utf8_is_named_wherever_it_was_read(
    run_cli: Any, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_bytes("첫 줄\n둘째 줄".encode("cp949"))

    def read(*args: Any, **kwargs: Any) -> None:
        odd.read_text(encoding="utf-8")  # no local names the file: pathlib's frame does

    monkeypatch.setattr(status_command, "gather", read)
    result = run_cli("--config", str(newsroom.config), "status")
    assert result.code == 1
    assert f"{odd}:1: not UTF-8 text (byte 0xc1) — save it as UTF-8" in one_message(result)
