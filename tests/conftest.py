"""Shared test helpers: run the real CLI in-process, and a newsletter folder served over HTTP."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from digest.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FEEDS = ROOT / "examples" / "feeds"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Call `digest ARGS…` as a user would and return its exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        captured = capsys.readouterr()
        code = exit_info.value.code
        return CliResult(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _pinned_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's settings or sends mail by accident."""
    for var in ("DIGEST_CONFIG", "DIGEST_SMTP_HOST", "DIGEST_SUMMARIZER_BACKEND", "DIGEST_NOW"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")


SAMPLE_SECTIONS = [
    ("google", "구글 블로그", [("google-research", "rss", "google-research-blog.xml")]),
    ("aws", "AWS 머신러닝 블로그", [("aws-ml", "rss", "aws-ml-blog.xml")]),
    ("meta", "페이스북(메타) 리서치", [("meta-ai-research", "rss", "meta-ai-research.xml")]),
    ("arxiv", "arXiv", [("arxiv-rss", "rss", "arxiv-rss-cs-lg.xml")]),
    ("reddit", "레딧", [("reddit-ml", "reddit", "reddit-machinelearning.json")]),
]


@dataclass
class Newsroom:
    """A newsletter folder whose feeds.yaml points at a local HTTP server."""

    path: Path
    server: object

    @property
    def config(self) -> Path:
        return self.path / "feeds.yaml"

    def serve(self, url_path: str, body: bytes | str, status: int = 200) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.server.expect_request(url_path).respond_with_data(  # type: ignore[attr-defined]
            data, status=status, content_type="application/xml"
        )

    def issue(self, number: int) -> Path:
        return self.path / "issues" / f"{number:04d}.md"


@pytest.fixture
def newsroom(tmp_path: Path, httpserver: object) -> Newsroom:
    """Every sample feed served at /feeds/NAME, a feeds.yaml for it, auto_publish on."""
    room = Newsroom(tmp_path / "newsroom", httpserver)
    room.path.mkdir()
    sections = []
    for section_id, title, sources in SAMPLE_SECTIONS:
        entries = []
        for source_id, kind, file in sources:
            room.serve(f"/feeds/{file}", (EXAMPLE_FEEDS / file).read_bytes())
            url = httpserver.url_for(f"/feeds/{file}")  # type: ignore[attr-defined]
            entries.append({"id": source_id, "type": kind, "url": url})
        sections.append({"id": section_id, "title": title, "max_items": 3, "sources": entries})
    settings = {
        "title": "뉴랄브리핑",
        "timezone": "Asia/Seoul",
        "summarizer": {"backend": "extractive"},
        "select": {"window_days": None},
        "sections": sections,
        "site": {"url": "https://example.org/nb/", "output": "site"},
        "email": {"from": "nb@example.org", "subscribers": "subscribers.csv"},
        "auto_publish": True,
    }
    room.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    (room.path / "subscribers.csv").write_text(
        "email,name,status\na@example.org,가나다,\nb@example.org,,\ngone@example.org,,unsubscribed\n",
        encoding="utf-8",
    )
    return room


def copy_example(tmp_path: Path) -> Path:
    """The bundled sample folder, copied so a test can build it without touching the repo."""
    target = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", target, ignore=shutil.ignore_patterns(".digest", "issues"))
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on loopback with `handler`, and DIGEST_SMTP_* pointing at it."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DIGEST_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DIGEST_SMTP_PORT", str(port))
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def desk(run_cli: Callable[..., CliResult], newsroom: Newsroom) -> Callable[..., CliResult]:
    """The editor's desk: the newsroom's 2026-04-30 drafted and left unpublished, and a function
    that runs `digest --config … ARGS` against it (`desk.room` is the newsroom)."""

    def digest(*args: str) -> CliResult:
        return run_cli("--config", str(newsroom.config), *args)

    made = digest("daily", "--date", "2026-04-30", "--no-send", "--no-publish")
    assert made.code == 0, made.err
    digest.room = newsroom  # type: ignore[attr-defined]
    return digest


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The `scripted` summarizer backend (tests/scripted.py), registered for this test."""
    import scripted as module

    from digest import summarize

    monkeypatch.setitem(summarize.BACKENDS, "scripted", "scripted")
    module.reset()
    yield module
    module.reset()
