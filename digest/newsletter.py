"""Email: the same issue through the same Jinja renderer, a text part, SMTP and a send log.

A recipient is recorded in the send log the moment their message is accepted, so a re-run after
a crash sends only to those not yet sent, and never twice.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import quote

from digest import clock
from digest.config import Config
from digest.errors import ConfigError, SendError
from digest.issue import Issue
from digest.render import issue_url, template_env
from digest.store import Store, atomic_write

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
RETRIES = 2


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""


def load_subscribers(config: Config) -> list[Subscriber]:
    if not config.email.subscribers:
        raise ConfigError("feeds.yaml: email.subscribers is not set — name a CSV file of emails")
    path = config.path(config.email.subscribers)
    if not path.is_file():
        raise ConfigError(f"{path}: subscribers file not found — create it (columns: email,name)")
    subscribers, seen = [], set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            email = (row.get("email") or "").strip()
            if (row.get("status") or "").strip().lower() in ("unsubscribed", "bounced"):
                continue
            if not _EMAIL.match(email):
                raise ConfigError(
                    f"{path}:{line}: {email!r} is not an email address — fix or remove it"
                )
            if email.lower() not in seen:
                seen.add(email.lower())
                subscribers.append(Subscriber(email, (row.get("name") or "").strip()))
    return subscribers


def web_url(config: Config, issue: Issue) -> str:
    return f"{config.site.url.rstrip('/')}/{issue_url(issue)}" if config.site.url else ""


def build_message(config: Config, issue: Issue, to: Subscriber) -> EmailMessage:
    env = template_env(config)
    sender = config.email.from_ or "newsletter@localhost"
    unsubscribe_mail = f"mailto:{sender}?subject={quote('unsubscribe ' + to.email)}"
    context = {"issue": issue, "web_url": web_url(config, issue), "unsubscribe": unsubscribe_mail}
    message = EmailMessage()
    message["Subject"] = f"[{config.title}] 제 {issue.number:04d}호 ({issue.date.isoformat()})"
    message["From"] = formataddr((config.title, sender))
    message["To"] = formataddr((to.name, to.email)) if to.name else to.email
    message["Date"] = format_datetime(clock.now(config.timezone))
    message["Message-ID"] = make_msgid(f"digest.{issue.number:04d}", sender.split("@")[-1])
    message["List-Unsubscribe"] = f"<{unsubscribe_mail}>"
    if config.email.reply_to:
        message["Reply-To"] = config.email.reply_to
    message.set_content(env.get_template("email.txt.j2").render(**context))
    message.add_alternative(env.get_template("email.html.j2").render(**context), subtype="html")
    return message


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already sent earlier
    failed: dict[str, str] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)  # --dry-run


def write_eml(
    config: Config, issue: Issue, folder: Path, subscribers: list[Subscriber]
) -> SendReport:
    """--dry-run: one .eml per recipient, nothing recorded."""
    report = SendReport()
    for index, subscriber in enumerate(subscribers, start=1):
        safe = re.sub(r"[^\w.@-]", "_", subscriber.email)
        path = folder / f"{issue.number:04d}" / f"{index:04d}-{safe}.eml"
        atomic_write(path, build_message(config, issue, subscriber).as_bytes())
        report.written.append(path)
    return report


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    ssl: bool = False

    @classmethod
    def from_env(cls) -> SmtpSettings:
        host = os.environ.get("DIGEST_SMTP_HOST", "")
        if not host:
            raise ConfigError(
                "DIGEST_SMTP_HOST is not set — export DIGEST_SMTP_HOST (and _PORT, _USER, "
                "_PASSWORD, _STARTTLS), or use `digest send --dry-run`"
            )
        use_ssl = os.environ.get("DIGEST_SMTP_SSL", "").lower() in ("1", "true", "yes")
        try:
            port = int(os.environ.get("DIGEST_SMTP_PORT") or (465 if use_ssl else 25))
        except ValueError:
            raise ConfigError("DIGEST_SMTP_PORT must be a number, e.g. 587") from None
        return cls(
            host=host,
            port=port,
            user=os.environ.get("DIGEST_SMTP_USER", ""),
            password=os.environ.get("DIGEST_SMTP_PASSWORD", ""),
            starttls=os.environ.get("DIGEST_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            ssl=use_ssl,
        )

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=30)
            if self.starttls:
                smtp.starttls(context=context)
        if self.user:
            smtp.login(self.user, self.password)
        return smtp


def send(
    config: Config,
    issue: Issue,
    store: Store,
    subscribers: list[Subscriber],
    settings: SmtpSettings,
    *,
    resend: bool = False,
    pause_s: float = 0.0,
    on_sent: Callable[[str], None] | None = None,
) -> SendReport:
    report = SendReport()
    pending = []
    for subscriber in subscribers:
        if not resend and store.sent_status(issue.number, subscriber.email) == "sent":
            report.skipped.append(subscriber.email)
        else:
            pending.append(subscriber)
    if not pending:
        return report
    try:
        smtp = settings.connect()
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(
            f"cannot connect to SMTP server {settings.host}:{settings.port} ({exc}) — "
            "check DIGEST_SMTP_* and re-run; nothing was sent"
        ) from None
    try:
        for subscriber in pending:
            error = _send_one(smtp, build_message(config, issue, subscriber))
            at = clock.now(config.timezone)
            if error is None:
                store.record_send(issue.number, subscriber.email, "sent", at)
                report.sent.append(subscriber.email)
                if on_sent:
                    on_sent(subscriber.email)
            else:
                store.record_send(issue.number, subscriber.email, "failed", at, error)
                report.failed[subscriber.email] = error
            if pause_s:
                time.sleep(pause_s)
    finally:
        # The messages are out or recorded as failed; a dead QUIT changes nothing.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return report


def _send_one(smtp: smtplib.SMTP, message: EmailMessage) -> str | None:
    """None when accepted; the reason when refused. Only 4xx and dropped connections retry."""
    for attempt in range(RETRIES + 1):
        try:
            smtp.send_message(message)
            return None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            if 400 <= code < 500 and attempt < RETRIES:
                time.sleep(1.0 + attempt)
                continue
            return f"{code} {reason.decode(errors='replace')}"
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500 and attempt < RETRIES:
                time.sleep(1.0 + attempt)
                continue
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            return f"{exc.smtp_code} {text}"
        except smtplib.SMTPServerDisconnected:
            # Not recorded as sent, so the next run tries this recipient again.
            return "server disconnected"
    return "gave up"
