"""Sending: SMTP settings from the environment, and a send log that makes a re-run safe.

Sending aims at exactly once and settles for at most once. A recipient is marked `sending` in
the log just before the message goes out and `sent` the moment the server accepts it. If the
connection dies after the whole message was handed over but before the server answered, the
recipient stays `sending`: in doubt, reported, and not sent again without `--resend` (a
duplicate is worse than a question). Permanent refusals (5xx) are recorded as `refused` and not
retried; transient ones (4xx, a dropped connection) are retried a bounded number of times on a
fresh connection, then recorded as `deferred`, which the next run picks up.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage

from digest import clock
from digest.config import Config, Secrets
from digest.errors import ConfigError, SendError
from digest.issue import Issue
from digest.newsletter.compose import (
    SMTP_POLICY,
    Composer,
    SendReport,
    feed_images,
    sender_address,
)
from digest.newsletter.subscribers import Subscriber
from digest.store import Store

# Send log statuses (store.send_log.status).
SENT, SENDING, REFUSED, DEFERRED = "sent", "sending", "refused", "deferred"


# SMTP ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    """From the environment only: a password never sits in feeds.yaml, and never in a repr."""

    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """The settings from DIGEST_SMTP_* (`config.Secrets`). Raises ConfigError naming the
        variable and the fix when the host is missing, the port is not one, or SSL and
        STARTTLS are both asked for."""
        secrets = Secrets.from_env(env)
        host = secrets.smtp_host
        if not host:
            raise ConfigError(
                "DIGEST_SMTP_HOST is not set — export DIGEST_SMTP_HOST (and _PORT, _USER, "
                "_PASSWORD, _STARTTLS), or use `digest send --dry-run`"
            )
        use_ssl, starttls = secrets.smtp_ssl, secrets.smtp_starttls
        if use_ssl and starttls:
            raise ConfigError(
                "DIGEST_SMTP_SSL and DIGEST_SMTP_STARTTLS are both set — SSL is for port 465, "
                "STARTTLS for 587: unset one"
            )
        try:
            port = int(secrets.smtp_port or (465 if use_ssl else 25))
        except ValueError:
            raise ConfigError("DIGEST_SMTP_PORT must be a number, e.g. 587") from None
        if not 0 < port < 65536:
            raise ConfigError(f"DIGEST_SMTP_PORT {port} is out of range — use e.g. 587")
        return cls(host, port, secrets.smtp_user, secrets.smtp_password, starttls, use_ssl)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


class _Unavailable(Exception):
    """The server cannot be reached or closed on us: worth another try on a new connection."""


class _Connection:
    """One SMTP connection at a time, opened when needed and dropped after any failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.opened = 0

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = self._open()
            self.opened += 1
        return self.smtp

    def _open(self) -> smtplib.SMTP:
        where = self.settings.where
        try:
            return self.settings.connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"SMTP server {where} refused the login of {self.settings.user!r} "
                f"({exc.smtp_code}) — check DIGEST_SMTP_USER and DIGEST_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(
                f"SMTP server {where}: {exc} — check DIGEST_SMTP_STARTTLS, DIGEST_SMTP_SSL "
                "and whether the server wants a login"
            ) from None
        except ssl.SSLError as exc:
            raise SendError(
                f"TLS with SMTP server {where} failed ({exc.reason}) — check DIGEST_SMTP_SSL "
                "(port 465) or DIGEST_SMTP_STARTTLS (port 587)"
            ) from None
        except smtplib.SMTPConnectError as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Unavailable(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            raise SendError(
                f"SMTP server {where} turned the connection away ({exc.smtp_code} "
                f"{_text(exc.smtp_error)}) — check DIGEST_SMTP_HOST and _PORT"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unavailable(str(exc) or type(exc).__name__) from None

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        """QUIT politely; the messages are out or recorded, so a dead QUIT changes nothing."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class _Outcome:
    status: str  # SENT, REFUSED, DEFERRED (transient), or SENDING (in doubt)
    reason: str = ""
    unavailable: bool = False  # the server itself, not this recipient


def _reply(code: int, text: bytes | str, *, stage: str) -> _Outcome:
    reason = f"{code} {_text(text)}".strip()
    if 400 <= code < 500:
        return _Outcome(DEFERRED, reason, unavailable=code == 421)
    return _Outcome(REFUSED, f"{reason} (at {stage})")


def _transaction(
    smtp: smtplib.SMTP, sender: str, recipient: str, payload: bytes, mark: Callable[[], None]
) -> _Outcome:
    """MAIL, RCPT, DATA by hand, so a failure says whether the server can have the message."""
    try:
        smtp.ehlo_or_helo_if_needed()
        code, text = smtp.mail(sender)
        if code != 250:
            _reset(smtp)
            if 400 <= code < 500:
                return _reply(code, text, stage="MAIL FROM")
            raise SendError(
                f"the SMTP server refuses the sender {sender} ({code} {_text(text)}) — check "
                "email.from in feeds.yaml against the account in DIGEST_SMTP_USER"
            )
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            _reset(smtp)
            return _reply(code, text, stage="RCPT TO")
        mark()
        code, text = smtp.docmd("DATA")
        if code != 354:
            _reset(smtp)
            return _reply(code, text, stage="DATA")
        smtp.send(payload)
    except (OSError, smtplib.SMTPException) as exc:
        # Before the final dot the server cannot have accepted the message: safe to try again.
        return _Outcome(DEFERRED, f"connection lost ({exc})", unavailable=True)
    try:
        code, text = smtp.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        return _Outcome(
            SENDING,
            f"in doubt: no answer after the message was sent ({exc}) — not sent again without "
            "--resend",
        )
    if code == 250:
        return _Outcome(SENT)
    return _reply(code, text, stage="end of DATA")


def _reset(smtp: smtplib.SMTP) -> None:
    try:
        smtp.rset()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _payload(message: EmailMessage) -> bytes:
    """The DATA section: CRLF lines, leading dots doubled (RFC 5321 4.5.2), the closing dot."""
    data = message.as_bytes(policy=SMTP_POLICY)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def send(
    config: Config,
    issue: Issue,
    store: Store,
    subscribers: list[Subscriber],
    settings: SmtpSettings,
    *,
    resend: bool = False,
    pause_s: float | None = None,
    on_sent: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send `issue` to every subscriber the send log does not show as sent, refused or in
    doubt (with `resend`, to every one of `subscribers`), one SMTP transaction per recipient;
    see the module docstring for the log. Pacing comes from feeds.yaml's `email:`
    (`pause_s`, in seconds, overrides `pause_seconds`; `sleep` is replaced in tests), and
    `on_sent(address)` is told each address the server accepted.

    Returns a `SendReport`: sent, skipped (sent before), failed with reasons, held (refused
    earlier, or in doubt), and `stopped` when the server became unreachable mid-list (the
    rest stay unsent for the next run). Each outcome is in the send log as it happens.

    Raises SendError before anything is sent when the HTML is over `email.max_html_bytes`
    even with every item shortened, or the server cannot be reached at all; and on any
    connection (the first, or a batch's fresh one) when the server refuses the login, TLS or
    the connection (5xx), or refuses the sender address (MAIL FROM 5xx). Recipients sent
    before that stay recorded."""
    report = SendReport()
    pending = _pending(store, issue, subscribers, resend, report)
    if not pending:
        return report
    email = config.email
    pause = email.pause_seconds if pause_s is None else pause_s
    composer = Composer(config, issue, feed_images(store, issue))
    report.shortened = len(composer.short)
    sender = sender_address(config)
    connection = _Connection(settings)
    try:
        for index, subscriber in enumerate(pending):
            if index and index % email.batch_size == 0:
                connection.close()  # a fresh connection per batch; relays cap messages per one
                if email.batch_pause_seconds:
                    sleep(email.batch_pause_seconds)
            elif index and pause:
                sleep(pause)
            address = subscriber.email
            payload = _payload(composer.message(subscriber))
            try:
                outcome = _deliver(
                    connection, sender, address, payload, store, issue, config, sleep
                )
            except _Unavailable as exc:
                if not connection.opened:
                    raise SendError(
                        f"cannot connect to SMTP server {settings.where} ({exc}) — check "
                        "DIGEST_SMTP_* and re-run; nothing was sent"
                    ) from None
                # Not delivered (the server never had the whole message): the next run retries.
                at = clock.now(config.timezone)
                store.record_send(issue.number, address, DEFERRED, at, str(exc))
                report.stopped = f"SMTP server {settings.where} unavailable ({exc})"
                report.failed[address] = str(exc)
                for rest in pending[index + 1 :]:
                    report.failed[rest.email] = "not sent: the run stopped; re-run to continue"
                break
            store.record_send(
                issue.number, address, outcome.status, clock.now(config.timezone), outcome.reason
            )
            if outcome.status == SENT:
                report.sent.append(address)
                if on_sent:
                    on_sent(address)
            else:
                report.failed[address] = outcome.reason
                if outcome.status == REFUSED:
                    report.refused.append(address)
    finally:
        connection.close()
    return report


def _pending(
    store: Store, issue: Issue, subscribers: list[Subscriber], resend: bool, report: SendReport
) -> list[Subscriber]:
    pending = []
    for subscriber in subscribers:
        status = None if resend else store.sent_status(issue.number, subscriber.email)
        if status == SENT:
            report.skipped.append(subscriber.email)
        elif status == REFUSED:
            report.held[subscriber.email] = (
                "refused by the server in an earlier run — fix the address, then "
                f"`digest send --to {subscriber.email} --resend`"
            )
        elif status == SENDING:
            report.held[subscriber.email] = (
                "in doubt: an earlier run was cut off while sending it — check the server's "
                f"log, then `digest send --to {subscriber.email} --resend` if it did not arrive"
            )
        else:
            pending.append(subscriber)
    return pending


def _deliver(
    connection: _Connection,
    sender: str,
    address: str,
    payload: bytes,
    store: Store,
    issue: Issue,
    config: Config,
    sleep: Callable[[float], None],
) -> _Outcome:
    """One recipient, retrying transient failures on a fresh connection. Raises _Unavailable
    when the server stays unreachable, so the run stops instead of failing everyone."""
    retries, delay = config.email.retries, config.email.retry_delay_seconds

    def mark() -> None:
        store.record_send(issue.number, address, SENDING, clock.now(config.timezone))

    outcome = _Outcome(DEFERRED, "not tried")
    for attempt in range(retries + 1):
        if attempt:
            sleep(delay * attempt)
        try:
            smtp = connection.get()
        except _Unavailable as exc:
            outcome = _Outcome(DEFERRED, str(exc), unavailable=True)
            continue
        outcome = _transaction(smtp, sender, address, payload, mark)
        if outcome.status != DEFERRED:
            return outcome
        if outcome.unavailable:
            connection.drop()
    if outcome.unavailable:
        raise _Unavailable(f"{outcome.reason}, {retries + 1} tries")
    return _Outcome(DEFERRED, f"{outcome.reason} ({retries + 1} tries; the next run tries again)")
