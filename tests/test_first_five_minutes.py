"""A new operator's first five minutes, through the real CLI: `init` says where to go next, an
empty `draft` says what to run, "nothing new" (exit 3) is a note and never an error, and the
README's cron line runs as written and mails nothing on a good or a quiet day."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from conftest import Newsroom

from digest.config import load_config
from digest.newsletter.subscribers import load_subscribers
from digest.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXIT_NOTHING_NEW = 3


def set_window(room: Newsroom, days: int | None) -> None:
    settings = yaml.safe_load(room.config.read_text(encoding="utf-8"))
    settings["select"] = {"window_days": days}
    room.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def assert_no_error_word(text: str) -> None:
    assert not re.search(r"\berror\b", text, re.I), text


# init ------------------------------------------------------------------------------------------
def test_init_says_cd_and_the_next_command(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "my letter"
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    lines = [line.strip() for line in result.err.splitlines()]
    assert f"cd {shlex.quote(str(target))}" in lines
    (daily,) = [line for line in lines if " daily --no-send" in line]
    program = shlex.split(daily.split("#")[0])[0]
    # `digest` when this installation is on PATH, else the full path of its script.
    assert program == "digest" or (Path(program).is_file() and os.access(program, os.X_OK))
    assert lines.index(f"cd {shlex.quote(str(target))}") < lines.index(daily)
    assert any(" review" in line for line in lines[lines.index(daily) :])


def test_init_in_the_current_folder_needs_no_cd(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("init")
    assert result.code == 0, result.err
    assert "cd " not in result.err and "daily --no-send" in result.err
    assert (tmp_path / "feeds.yaml").is_file()


def test_init_writes_subscribers_with_the_header_and_auto_publish_off(
    run_cli, tmp_path: Path
) -> None:
    target = tmp_path / "letter"
    assert run_cli("init", str(target)).code == 0
    assert (target / "subscribers.csv").read_text(encoding="utf-8") == "email,name,status\n"
    assert "auto_publish: false" in (target / "feeds.yaml").read_text(encoding="utf-8").splitlines()
    config = load_config(target / "feeds.yaml")
    assert config.auto_publish is False
    assert config.path(config.email.subscribers) == target / "subscribers.csv"
    assert load_subscribers(config) == []  # a valid list, nobody mailed by accident


def test_init_keeps_an_existing_subscribers_list(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "letter"
    target.mkdir()
    (target / "subscribers.csv").write_text("email\nreader@example.org\n", encoding="utf-8")
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    assert (target / "subscribers.csv").read_text() == "email\nreader@example.org\n"


# draft with nothing to take ------------------------------------------------------------------
def test_draft_on_an_empty_store_says_run_digest_fetch(run_cli, newsroom: Newsroom) -> None:
    result = run_cli("--config", str(newsroom.config), "draft", "--date", "2026-04-30")
    assert result.code == EXIT_NOTHING_NEW
    assert "run `digest fetch`" in result.err and "2026-04-30" in result.err
    assert_no_error_word(result.err)
    assert result.out == ""


def stored(room: Newsroom) -> tuple[int, date]:
    """How many items the newsroom's store holds, and the newest one's date in Seoul."""
    with Store(room.path / ".digest") as store:
        items = store.items()
    newest = max(i.published for i in items if i.published).astimezone(ZoneInfo("Asia/Seoul"))
    return len(items), newest.date()


def test_draft_when_every_item_is_older_than_the_window(run_cli, newsroom: Newsroom) -> None:
    set_window(newsroom, 3)
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "fetch").code == 0
    count, newest = stored(newsroom)
    later = date(newest.year + 1, 1, 1)
    result = run_cli(*cfg, "draft", "--date", later.isoformat())
    assert result.code == EXIT_NOTHING_NEW
    message = result.err.strip()
    assert f"all {count:,} stored items" in message and "3-day window" in message
    assert newest.isoformat() in message
    reach = (later - newest).days
    assert f"`select.window_days: {reach}` in feeds.yaml" in message
    assert f"--date {newest.isoformat()}" in message
    assert_no_error_word(message)
    assert not list((newsroom.path / "issues").glob("*.md"))

    # Either piece of advice, taken as given, makes a draft.
    set_window(newsroom, reach)
    assert run_cli(*cfg, "draft", "--date", later.isoformat()).code == 0


def test_draft_says_what_else_kept_items_out(run_cli, newsroom: Newsroom) -> None:
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "daily", "--date", "2026-04-30", "--no-send").code == 0
    count, newest = stored(newsroom)
    # Another day: what the 04-30 issue took is not news again, and nothing else is left.
    set_window(newsroom, 3)
    result = run_cli(*cfg, "draft", "--date", "2026-05-01")
    assert result.code == EXIT_NOTHING_NEW
    message = result.err.strip()
    assert f"none of the {count:,} stored items" in message and newest.isoformat() in message
    assert "already in an issue" in message and "digest draft --explain" in message
    assert "run `digest fetch`" in message
    assert_no_error_word(message)


def test_draft_before_the_stored_items_says_draft_a_later_day(run_cli, newsroom) -> None:
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "fetch").code == 0
    count, newest = stored(newsroom)
    result = run_cli(*cfg, "draft", "--date", "2020-01-01")
    assert result.code == EXIT_NOTHING_NEW
    assert f"{count:,} published after 2020-01-01" in result.err
    assert "digest draft --date" in result.err and newest.isoformat() in result.err
    assert_no_error_word(result.err)


# exit 3 is a note ------------------------------------------------------------------------------
def test_nothing_new_is_a_plain_note_and_silent_under_q(run_cli, newsroom: Newsroom) -> None:
    cfg = ("--config", str(newsroom.config))
    for command in (("review",), ("send",), ("draft", "--date", "2026-04-30")):
        shown = run_cli(*cfg, *command)
        assert shown.code == EXIT_NOTHING_NEW, command
        assert shown.err.strip() and shown.out == ""
        assert_no_error_word(shown.err)
        quiet = run_cli(*cfg, "-q", *command)
        assert (quiet.code, quiet.out, quiet.err) == (EXIT_NOTHING_NEW, "", ""), command


def test_real_errors_still_say_error(run_cli, tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "missing.yaml"), "-q", "draft")
    assert result.code == 2 and "error" in result.err


def test_quiet_daily_prints_one_line_for_the_log(run_cli, newsroom: Newsroom) -> None:
    """-q leaves the summary line alone, on stderr, for the log the cron line appends to (and
    systemd's journal, and the CI log): on a normal day and on a quiet one."""
    cfg = ("--config", str(newsroom.config), "-q", "daily", "--date", "2026-04-30", "--no-send")
    normal = run_cli(*cfg)
    assert normal.code == 0 and normal.out == ""
    (line,) = normal.err.splitlines()
    assert line.startswith("제 0001호: ")
    again = run_cli(*cfg)
    assert again.code == EXIT_NOTHING_NEW and again.out == ""
    (line,) = again.err.splitlines()
    assert "nothing new" in line
    assert_no_error_word(line)


# the cron line ---------------------------------------------------------------------------------
def cron_line(text: str) -> str:
    """The one crontab entry (`30 7 * * * …`) in a README, crontab or guide."""
    (line,) = [line for line in text.splitlines() if line.startswith("30 7 * * *")]
    return line


def test_the_cron_line_is_the_same_everywhere() -> None:
    crontab = cron_line((ROOT / "contrib/cron/digest.crontab").read_text(encoding="utf-8"))
    assert cron_line((ROOT / "README.md").read_text(encoding="utf-8")) == crontab
    assert cron_line((ROOT / "docs/scheduling.md").read_text(encoding="utf-8")) == crontab
    assert "/srv/newsletter/.venv/bin/digest -q daily" in crontab
    assert "cd /srv/newsletter" in crontab


def run_like_cron(line: str, room: Newsroom) -> subprocess.CompletedProcess[str]:
    """Run a crontab entry's command as cron does: /bin/sh -c, from HOME, with cron's bare
    environment (no venv, no locale, PATH=/usr/bin:/bin); /srv/newsletter is the newsroom."""
    command = line.split(None, 5)[5].replace("/srv/newsletter", str(room.path))
    assert "%" not in command  # cron turns % into a newline
    env = {"PATH": "/usr/bin:/bin", "HOME": str(room.path.parent), "SHELL": "/bin/sh"}
    env["LOGNAME"] = env["USER"] = "newsletter"
    return subprocess.run(
        ["/bin/sh", "-c", command],
        env=env,
        cwd=room.path.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_cron_line_works_and_mails_only_on_trouble(newsroom: Newsroom) -> None:
    line = cron_line((ROOT / "README.md").read_text(encoding="utf-8"))
    venv = newsroom.path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "digest").symlink_to(Path(sys.executable).parent / "digest")
    # Settings come from .env, as the README says: here the pinned clock.
    (newsroom.path / ".env").write_text(
        "export DIGEST_NOW=2026-04-30T07:30:00+09:00\n", encoding="utf-8"
    )
    log = newsroom.path / ".digest" / "daily.log"

    good = run_like_cron(line, newsroom)
    assert (good.returncode, good.stdout, good.stderr) == (0, "", "")
    assert newsroom.issue(1).is_file()
    assert "제 0001호: " in log.read_text(encoding="utf-8")

    quiet = run_like_cron(line, newsroom)  # the same morning again: nothing new, exit 3
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert "nothing new" in log.read_text(encoding="utf-8").splitlines()[-1]

    # Trouble is mailed: the exit code and the end of the log, which names the problem.
    with newsroom.config.open("a", encoding="utf-8") as settings:
        settings.write("auto_pubish: true\n")
    broken = run_like_cron(line, newsroom)
    mail = broken.stdout + broken.stderr
    assert "digest daily exited 2" in mail and "auto_pubish" in mail, mail


def test_a_first_cron_run_needs_no_state_folder_nor_env_file(newsroom: Newsroom) -> None:
    """Straight after `digest init` there is neither .digest/ (where the log goes) nor .env."""
    line = cron_line((ROOT / "contrib/cron/digest.crontab").read_text(encoding="utf-8"))
    venv = newsroom.path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "digest").symlink_to(Path(sys.executable).parent / "digest")
    newsroom.server.clear()  # type: ignore[attr-defined]  # every source down: exit 1, mailed
    done = run_like_cron(line, newsroom)
    assert not (newsroom.path / ".env").exists()
    mail = done.stdout + done.stderr
    assert "digest daily exited 1" in mail and "No such file" not in mail, mail
    assert (newsroom.path / ".digest" / "daily.log").is_file()
