"""The command itself: help everywhere, examples, version, exit codes, docs that stay true."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from digest import __version__
from digest.cli import cli

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["init", "fetch", "draft", "review", "publish", "build", "send", "daily", "serve"]


def test_every_architecture_command_exists() -> None:
    assert set(COMMANDS) <= set(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_has_an_example_and_exit_codes(run_cli, command: str, flag: str) -> None:
    result = run_cli(command, flag)
    assert result.code == 0
    assert "Example:" in result.out
    assert f"digest {command}" in result.out
    assert "3 nothing new" in result.out


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_documents_every_command(command: str) -> None:
    assert f"digest {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.code == 0 and __version__ in result.out


def test_python_dash_m_works_and_unknown_command_is_usage_error() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "digest", "--version"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and __version__ in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "digest", "frobnicate"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "No such command" in bad.stderr


def test_commands_that_do_not_summarize_never_import_torch() -> None:
    code = (
        "import sys; from digest.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "import digest.site, digest.newsletter, digest.daily\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_bad_date_is_a_usage_error(run_cli, newsroom) -> None:
    result = run_cli("--config", str(newsroom.config), "draft", "--date", "30/04/2026")
    assert result.code == 2 and "YYYY-MM-DD" in result.err


def test_review_lists_the_draft_on_stdout_and_json_alone(run_cli, newsroom) -> None:
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "daily", "--date", "2026-04-30", "--no-send", "--no-publish").code == 0
    listed = run_cli(*cfg, "review")
    assert listed.code == 0 and "  1. g1 " in listed.out and listed.err == ""
    assert not any(line.endswith(" ") for line in listed.out.splitlines())  # no padding
    import json

    data = json.loads(run_cli(*cfg, "review", "list", "--json").out)
    assert data["status"] == "draft" and data["items"][0]["n"] == 1


def test_review_with_no_draft_says_what_to_do(run_cli, newsroom) -> None:
    result = run_cli("--config", str(newsroom.config), "review")
    assert result.code == 3 and "digest draft" in result.err


def test_init_scaffolds_and_refuses_to_overwrite(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "letter"
    assert run_cli("init", str(target)).code == 0
    assert (target / "feeds.yaml").is_file() and (target / "issues").is_dir()
    again = run_cli("init", str(target))
    assert again.code == 2 and "already exists" in again.err
