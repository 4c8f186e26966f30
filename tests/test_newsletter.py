"""Email through a real SMTP server on loopback (aiosmtpd): structure, once-only, failures."""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from conftest import Newsroom, free_port, smtp_server

from digest import newsletter
from digest.config import load_config
from digest.issue import load_all
from digest.store import Store


class Inbox:
    """An SMTP handler that keeps what it accepts and misbehaves as a test tells it to."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()  # 550 for these addresses
        self.busy_once: set[str] = set()  # 421 (and hang up) the first time these are named
        self.outage_after: int | None = None  # 421 for every RCPT once this many were accepted
        self.hang_up_after_data: set[str] = set()  # take the message, then never answer
        self.rcpt_tries: Counter[str] = Counter()
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.rcpt_tries[address] += 1
        if address in self.refuse:
            return "550 5.1.1 no such user"
        if address in self.busy_once:
            self.busy_once.discard(address)
            return "421 4.3.2 too busy, try again later"
        if self.outage_after is not None and len(self.messages) >= self.outage_after:
            return "421 4.3.2 service not available"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        if set(envelope.rcpt_tos) & self.hang_up_after_data:
            server.transport.close()
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        return [m["To"].addresses[0].addr_spec for m in self.messages]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    with smtp_server(inbox, monkeypatch):
        yield inbox


@pytest.fixture
def published(run_cli, newsroom: Newsroom) -> Newsroom:
    result = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    assert result.code == 0, result.err
    return newsroom


READERS = [f"r{n}@example.org" for n in range(1, 6)]


def configure(room: Newsroom, readers: list[str] | None = None, **email_settings: Any) -> None:
    """Fast retries by default (no test waits seconds), other email settings as given."""
    settings = yaml.safe_load(room.config.read_text(encoding="utf-8"))
    settings["email"].update({"retry_delay_seconds": 0, **email_settings})
    room.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    if readers is not None:
        rows = "".join(f"{address},,\n" for address in readers)
        (room.path / "subscribers.csv").write_text(f"email,name,status\n{rows}", encoding="utf-8")


def send_log(room: Newsroom) -> dict[str, str]:
    with Store(room.path / ".digest") as store:
        rows = store.db.execute("SELECT recipient, status FROM send_log").fetchall()
    return dict(rows)


def test_message_structure(run_cli, published: Newsroom, smtp: Inbox) -> None:
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 0, result.err
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "b@example.org",
        "가나다 <a@example.org>",
    ]
    message = smtp.messages[0]
    assert message["Subject"] == "[뉴랄브리핑] 제 0001호 (2026-04-30)"
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] and message["Date"]
    # No email.unsubscribe_url: unsubscribes come by mail; the static site is no endpoint.
    assert message["List-Unsubscribe"].strip() == (
        "<mailto:nb@example.org?subject=unsubscribe%20a%40example.org>"
    )
    assert message["List-Unsubscribe-Post"] is None
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "제 0001호 뉴랄브리핑 (2026년 4월 30일 목요일)" in text and "[토막상식]" in text
    assert "https://example.org/nb/issues/0001/" in text
    assert 'href="https://example.org/nb/issues/0001/"' in html
    assert "<script" not in html and "<svg" not in html and 'style="' in html
    assert re.findall(r"<style>(.*?)</style>", html, re.S)[0].startswith("@media (prefers-color")
    assert "2 sent, 0 already sent, 0 failed" in result.err
    assert send_log(published) == {"a@example.org": "sent", "b@example.org": "sent"}


def test_sending_twice_sends_once(run_cli, published: Newsroom, smtp: Inbox) -> None:
    assert run_cli("--config", str(published.config), "send").code == 0
    again = run_cli("--config", str(published.config), "send")
    assert again.code == 3, again.err
    assert len(smtp.messages) == 2
    resend = run_cli("--config", str(published.config), "send", "--resend", "--to", "b@example.org")
    assert resend.code == 0 and len(smtp.messages) == 3


def test_to_sends_only_to_that_address_and_checks_it(
    run_cli, published: Newsroom, smtp: Inbox
) -> None:
    bad = run_cli("--config", str(published.config), "send", "--to", "not-an-address")
    assert bad.code == 2 and "--to" in bad.err and not smtp.messages
    result = run_cli("--config", str(published.config), "send", "--to", "a@example.org")
    assert result.code == 0, result.err
    assert [str(m["To"]) for m in smtp.messages] == ["가나다 <a@example.org>"]  # name from the CSV
    # The rest of the list still gets it, and a@ not a second time.
    assert run_cli("--config", str(published.config), "send").code == 0
    assert sorted(smtp.recipients()) == ["a@example.org", "b@example.org"]


def test_a_refused_address_is_recorded_not_retried_and_the_rest_delivered(
    run_cli, published: Newsroom, smtp: Inbox
) -> None:
    configure(published)
    smtp.refuse.add("a@example.org")
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 1
    assert "a@example.org: 550 5.1.1 no such user" in result.err
    assert smtp.recipients() == ["b@example.org"]
    assert smtp.rcpt_tries["a@example.org"] == 1  # permanent: never asked twice
    assert send_log(published)["a@example.org"] == "refused"
    # A re-run does not knock on the same door again; it says how to, deliberately.
    smtp.refuse.clear()
    again = run_cli("--config", str(published.config), "send")
    assert again.code == 3 and "a@example.org: refused by the server in an earlier run" in again.err
    assert smtp.rcpt_tries["a@example.org"] == 1
    fixed = run_cli("--config", str(published.config), "send", "--to", "a@example.org", "--resend")
    assert fixed.code == 0 and sorted(smtp.recipients()) == ["a@example.org", "b@example.org"]


def test_a_server_that_fails_on_the_third_recipient_then_recovers(
    run_cli, published: Newsroom, smtp: Inbox
) -> None:
    configure(published, READERS)
    smtp.busy_once.add("r3@example.org")
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 0, result.err
    assert smtp.recipients() == READERS  # each exactly once, in order
    assert smtp.rcpt_tries["r3@example.org"] == 2
    assert set(send_log(published).values()) == {"sent"}


def test_an_outage_stops_the_run_and_a_rerun_sends_only_the_rest(
    run_cli, published: Newsroom, smtp: Inbox
) -> None:
    configure(published, READERS, retries=2)
    smtp.outage_after = 2
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 1
    assert "unavailable (421 4.3.2 service not available, 3 tries)" in result.err
    assert "2 sent" in result.err and "re-run" in result.err
    assert smtp.rcpt_tries["r3@example.org"] == 3 and smtp.rcpt_tries["r4@example.org"] == 0
    log = send_log(published)
    assert log == {"r1@example.org": "sent", "r2@example.org": "sent", "r3@example.org": "deferred"}
    smtp.outage_after = None  # the server is back
    again = run_cli("--config", str(published.config), "send")
    assert again.code == 0, again.err
    assert smtp.recipients() == READERS  # nobody twice, nobody missed
    assert "3 sent, 2 already sent" in again.err


def test_a_message_whose_acceptance_was_never_heard_is_not_sent_again(
    run_cli, published: Newsroom, smtp: Inbox
) -> None:
    configure(published, READERS[:3])
    smtp.hang_up_after_data.add("r2@example.org")
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 1 and "r2@example.org: in doubt" in result.err
    assert smtp.recipients() == READERS[:3]  # r3 went out on a fresh connection
    assert send_log(published)["r2@example.org"] == "sending"
    again = run_cli("--config", str(published.config), "send")
    assert again.code == 3 and "r2@example.org: in doubt" in again.err
    assert smtp.recipients() == READERS[:3]  # at most once: the doubt is reported, not resent


def test_batches_and_pauses_spare_a_small_relay(published: Newsroom, smtp: Inbox) -> None:
    configure(published, READERS, batch_size=2, pause_seconds=0.5, batch_pause_seconds=3)
    config = load_config(published.config)
    issue = load_all(config.issues_path)[-1]
    subscribers = newsletter.load_subscribers(config)
    waits: list[float] = []
    with Store(config.state_path) as store:
        report = newsletter.send(
            config,
            issue,
            store,
            subscribers,
            newsletter.SmtpSettings.from_env(),
            sleep=waits.append,
        )
    assert report.sent == READERS
    assert waits == [0.5, 3, 0.5, 3]  # r1 · r2 | r3 · r4 | r5
    assert smtp.connections == 3


def test_the_password_is_never_printed(
    run_cli, published: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_everyone(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)

    port = free_port()
    controller = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=refuse_everyone,
        auth_require_tls=False,
    )
    controller.start()
    try:
        monkeypatch.setenv("DIGEST_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DIGEST_SMTP_PORT", str(port))
        monkeypatch.setenv("DIGEST_SMTP_USER", "editor")
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret-Pa55word")
        result = run_cli("--config", str(published.config), "-v", "send")
    finally:
        controller.stop()
    assert result.code == 1
    assert "refused the login of 'editor'" in result.err and "DIGEST_SMTP_PASSWORD" in result.err
    assert "s3cret-Pa55word" not in result.err + result.out


def test_daily_sends_when_smtp_is_configured(run_cli, newsroom: Newsroom, smtp: Inbox) -> None:
    result = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30")
    assert result.code == 0, result.err
    assert len(smtp.messages) == 2 and "email 2 sent" in result.err
    run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30")
    assert len(smtp.messages) == 2


def test_unreachable_server_is_a_clear_error(
    run_cli, published: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(published, retries=1)
    monkeypatch.setenv("DIGEST_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DIGEST_SMTP_PORT", str(free_port()))
    result = run_cli("--config", str(published.config), "send")
    assert result.code == 1
    assert "cannot connect to SMTP server" in result.err and "nothing was sent" in result.err
    assert send_log(published) == {}


def test_dry_run_writes_eml_and_mailing_service_html_and_records_nothing(
    run_cli, published: Newsroom, tmp_path: Path, smtp: Inbox
) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "--config", str(published.config), "send", "--dry-run", "--out", str(out),
        "--unsubscribe-link", "{{ UnsubscribeURL }}",
    )  # fmt: skip
    assert result.code == 0, result.err
    emls = sorted((out / "0001").glob("*.eml"))
    assert len(emls) == 2
    message = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[뉴랄브리핑] 제 0001호 (2026-04-30)"
    html = (out / "0001" / "email.html").read_text(encoding="utf-8")
    assert 'href="{{ UnsubscribeURL }}"' in html and "<body" in html
    assert "구독 해지: {{ UnsubscribeURL }}" in (out / "0001" / "email.txt").read_text(
        encoding="utf-8"
    )
    assert send_log(published) == {} and not smtp.messages
    assert run_cli("--config", str(published.config), "send").code == 0  # all still to send
    assert len(smtp.messages) == 2


def test_dry_run_for_a_mailing_service_needs_no_subscriber_list(
    run_cli, published: Newsroom, tmp_path: Path
) -> None:
    settings = yaml.safe_load(published.config.read_text(encoding="utf-8"))
    del settings["email"]["subscribers"]
    published.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "--config", str(published.config), "send", "--dry-run", "--out", str(out),
        "--unsubscribe-link", "*|UNSUB|*",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert sorted(p.name for p in (out / "0001").iterdir()) == ["email.html", "email.txt"]
    assert 'href="*|UNSUB|*"' in (out / "0001" / "email.html").read_text(encoding="utf-8")
    real = run_cli("--config", str(published.config), "send")  # a real send needs the list
    assert real.code == 2 and "email.subscribers is not set" in real.err
