"""Email: the issue as a message, sent once per subscriber, with a send log in the store.

The message comes from the same `Issue` and the same Jinja environment as the site
(`email.html.j2`, `email.txt.j2`); the stylesheet is inlined into style="" attributes, because
Gmail and Outlook drop or mangle <style>. Gmail clips an HTML part over ~102 KB and hides the
unsubscribe link with it, so a long issue shortens its later items to fit `email.max_html_bytes`.

Sending aims at exactly once and settles for at most once. A recipient is marked `sending` in
the log just before the message goes out and `sent` the moment the server accepts it. If the
connection dies after the whole message was handed over but before the server answered, the
recipient stays `sending`: in doubt, reported, and not sent again without `--resend` (a
duplicate is worse than a question). Permanent refusals (5xx) are recorded as `refused` and not
retried; transient ones (4xx, a dropped connection) are retried a bounded number of times on a
fresh connection, then recorded as `deferred`, which the next run picks up.
"""

from __future__ import annotations

import csv
import html.parser
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import css_inline
from markupsafe import Markup

from digest import clock
from digest.config import Config
from digest.errors import ConfigError, SendError
from digest.issue import Issue, IssueItem, Section
from digest.site import model as site_model
from digest.site.model import issue_url
from digest.store import Store, atomic_write
from digest.templates import markdown, template_env

# Send log statuses (store.send_log.status).
SENT, SENDING, REFUSED, DEFERRED = "sent", "sending", "refused", "deferred"

# CSV `status` values: who gets the newsletter and who does not.
ACTIVE_STATUSES = frozenset({"", "active", "subscribed", "confirmed"})
INACTIVE_STATUSES = frozenset({"unsubscribed", "bounced", "complained", "inactive"})
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Tracking pixels and vector images are not a feed's pictures; SVG does not show in email.
_NOT_A_PICTURE = re.compile(r"feedburner|/~r/|/~ff/|pixel|stats\.wp\.com|\.svg(\?|$)", re.I)
# The HTML is measured with the longest unsubscribe link any recipient can have, so the budget
# holds for everyone: an address of 254 characters that all need %-quoting.
_WORST_ADDRESS = "+" * (MAX_ADDRESS - len("@example.org")) + "@example.org"


# subscribers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""


def check_address(text: str) -> str:
    """The address as it goes on the wire (IDN domains punycoded), or ValueError saying why."""
    address = text.strip()
    if not address:
        raise ValueError("it is empty")
    if any(c.isspace() for c in address) or any(c in address for c in '<>,;"()[]\\'):
        raise ValueError('it has spaces or one of <>,;"()[]\\')
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("it needs one @ between a name and a domain")
    if not _LOCAL.match(local):
        raise ValueError(f"the part before @ ({local!r}) is not a valid mailbox name")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"the domain {domain!r} is not a valid domain name") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"the domain {domain!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise ValueError(f"the domain {domain!r} ends in a number")
    address = f"{local}@{domain}"
    if len(address) > MAX_ADDRESS:
        raise ValueError(f"it is longer than {MAX_ADDRESS} characters")
    return address


def load_subscribers(config: Config) -> list[Subscriber]:
    """Active subscribers from the CSV in email.subscribers (email, name, optional status).

    Every bad row is reported at once, by line, so one pass fixes the file."""
    if not config.email.subscribers:
        raise ConfigError("feeds.yaml: email.subscribers is not set — name a CSV file of emails")
    path = config.path(config.email.subscribers)
    if not path.is_file():
        raise ConfigError(f"{path}: subscribers file not found — create it (columns: email,name)")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [(c or "").strip().lower() for c in reader.fieldnames or []]
        if "email" not in columns:
            raise ConfigError(
                f"{path}:1: no 'email' column — the first line must name the columns, "
                "e.g. email,name,status"
            )
        reader.fieldnames = columns
        subscribers, problems, seen = [], [], set()
        for line, row in enumerate(reader, start=2):
            raw = (row.get("email") or "").strip()
            status = (row.get("status") or "").strip().lower()
            if not raw and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line
            if status in INACTIVE_STATUSES:
                continue
            if status not in ACTIVE_STATUSES:
                known = ", ".join(sorted(ACTIVE_STATUSES | INACTIVE_STATUSES - {""}))
                problems.append(f"{path}:{line}: status {status!r} — use one of: {known}")
                continue
            try:
                address = check_address(raw)
            except ValueError as exc:
                problems.append(
                    f"{path}:{line}: {raw!r} is not an email address ({exc}) — fix or remove it"
                )
                continue
            if address.lower() not in seen:
                seen.add(address.lower())
                name = " ".join((row.get("name") or "").split())  # no line breaks in a header
                subscribers.append(Subscriber(address, name))
    if problems:
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConfigError("\n".join(problems[:20]) + more)
    return subscribers


# images --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Image:
    src: str
    alt: str


class _FirstImage(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img" or self.found:
            return
        values = {key: value or "" for key, value in attrs}
        src = values.get("src", "").strip()
        if src.startswith(("https://", "http://")) and not _NOT_A_PICTURE.search(src):
            self.found = (src, " ".join(values.get("alt", "").split()))


def feed_images(store: Store, issue: Issue) -> dict[str, Image]:
    """The first picture of each item whose feed had one (its sanitized HTML), with alt text;
    an image without alt gets the item's title, which is what the picture illustrates."""
    images = {}
    for item in issue.items:
        stored = store.item(item.id)
        if stored is None or "<img" not in stored.html:
            continue
        finder = _FirstImage()
        finder.feed(stored.html)
        if finder.found:
            src, alt = finder.found
            images[item.id] = Image(src, alt or item.title)
    return images


# composing -----------------------------------------------------------------------------------
# Model and editor text is Markdown with raw HTML off, as on the site; images off as well, so a
# brief cannot add a picture the feed did not have.
_email_markdown = markdown(images=False)
_plain_markdown = markdown()


# Cached: every recipient's message renders the same briefs.
@lru_cache(maxsize=8192)
def email_markdown(text: str) -> Markup:
    return Markup(_email_markdown.renderInline(text))


@lru_cache(maxsize=8192)
def plain_text(text: str) -> str:
    """Inline Markdown as a reader of a text email wants it: no markup, links in parentheses."""
    out: list[str] = []
    href, link_start = "", 0
    for token in _plain_markdown.parseInline(text)[0].children or []:
        if token.type in ("text", "code_inline", "html_inline", "image"):
            out.append(token.content)  # an image's content is its alt text
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "link_open":
            href, link_start = str(token.attrGet("href") or ""), len(out)
        elif token.type == "link_close":
            shown = "".join(out[link_start:])
            if href and href not in (shown, f"mailto:{shown}"):
                out.append(f" ({href})")
    return " ".join("".join(out).split())


def one_line(item: IssueItem, limit: int = 110) -> str:
    """A shortened item's line: the first sentence of its summary, cut at `limit` characters."""
    text = plain_text(item.summary or item.significance or item.key_sentence)
    sentence = re.split(r"(?<=[.!?。])\s+", text, maxsplit=1)[0].strip()
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def web_url(config: Config, issue: Issue) -> str:
    return f"{config.site.url.rstrip('/')}/{issue_url(issue)}" if config.site.url else ""


def subject(config: Config, issue: Issue) -> str:
    return f"[{config.title}] 제 {issue.number:04d}호 ({issue.date.isoformat()})"


class _EmailPolicy(EmailPolicy):
    """Headers that carry URLs are written one URL a line. The default folder turns a URL longer
    than a line into RFC 2047 encoded words, which no client reads as a URL."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-unsubscribe":
            return f"{name}: " + f",{self.linesep} ".join(_uris(value)) + self.linesep
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-unsubscribe":
            return self.fold(name, value).encode("ascii")
        return bytes(super().fold_binary(name, value))


def _uris(value: str) -> list[str]:
    return [f"<{u.strip(' <>')}>" for u in re.findall(r"<[^>]*>", str(value))]


POLICY = _EmailPolicy()
SMTP_POLICY = POLICY.clone(linesep="\r\n")


class Composer:
    """Renders one issue for many recipients: the budget is settled once, in the constructor."""

    def __init__(
        self, config: Config, issue: Issue, images: Mapping[str, Image] | None = None
    ) -> None:
        self.config, self.issue = config, issue
        self.images = dict(images or {})
        self.web_url = web_url(config, issue)
        env = template_env(config)
        env.filters.update(email_md=email_markdown, plain=plain_text, one_line=one_line)
        self._html = env.get_template("email.html.j2")
        self._text = env.overlay(autoescape=False).get_template("email.txt.j2")
        self._inliner = css_inline.CSSInliner(
            keep_at_rules=True, load_remote_stylesheets=False, minify_css=True
        )
        self.short, self.html_bytes = self._fit()

    def _context(self, unsubscribe: str, short: frozenset[str]) -> dict[str, Any]:
        titles = [item.title for item in self.issue.items[:3]]
        return {
            "issue": self.issue,
            "web_url": self.web_url,
            "unsubscribe": unsubscribe,
            "images": self.images,
            "short": short,
            "web_link": self._web_link,
            "preheader": " · ".join(titles),
        }

    def _web_link(self, section: Section, index: int, item: IssueItem) -> str:
        if not self.web_url:
            return item.url
        return f"{self.web_url}#{site_model.item_anchor(section, index)}"

    def _render_html(self, unsubscribe: str, short: frozenset[str]) -> str:
        rendered = self._html.render(**self._context(unsubscribe, short))
        return str(self._inliner.inline(rendered))

    def _fit(self) -> tuple[frozenset[str], int]:
        items = self.issue.items
        budget = self.config.email.max_html_bytes
        probe = self.footer_link(_WORST_ADDRESS)
        size = 0
        for keep in _full_counts(len(items), self.config.email.max_full_items):
            short = frozenset(item.id for item in items[keep:])
            size = len(self._render_html(probe, short).encode("utf-8"))
            if size <= budget:
                return short, size
        raise SendError(
            f"issue {self.issue.number:04d}: the email's HTML is {size:,} bytes even with every "
            f"item shortened, over email.max_html_bytes ({budget:,}) — drop items with "
            "`digest review drop`, or raise the budget (Gmail clips beyond ~102 KB)"
        )

    def html(self, unsubscribe: str) -> str:
        return self._render_html(unsubscribe, self.short)

    def text(self, unsubscribe: str) -> str:
        return self._text.render(**self._context(unsubscribe, frozenset()))

    def unsubscribe_links(self, address: str) -> tuple[str, str]:
        """(mailto, URL): where a reader's client sends an unsubscribe; URL is "" without one."""
        email = self.config.email
        mailbox = email.reply_to or email.from_ or "newsletter@localhost"
        mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ' + address)}"
        template = email.unsubscribe_url
        if not template and self.config.site.url:
            template = f"{self.config.site.url.rstrip('/')}/unsubscribe/?email={{email}}"
        return mailto, template.replace("{email}", quote(address, safe="")) if template else ""

    def footer_link(self, address: str) -> str:
        mailto, url = self.unsubscribe_links(address)
        return url or mailto

    def message(self, to: Subscriber) -> EmailMessage:
        config = self.config
        sender = config.email.from_ or "newsletter@localhost"
        mailto, url = self.unsubscribe_links(to.email)
        message = EmailMessage(policy=POLICY)
        message["Subject"] = subject(config, self.issue)
        message["From"] = formataddr((config.title, sender))
        message["To"] = formataddr((to.name, to.email)) if to.name else to.email
        message["Date"] = format_datetime(clock.now(config.timezone))
        message["Message-ID"] = make_msgid(f"digest.{self.issue.number:04d}", _domain(sender))
        if config.email.reply_to:
            message["Reply-To"] = config.email.reply_to
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in (mailto, url) if u)
        if url.startswith("https://"):
            # RFC 8058 one-click: the URL must accept a POST that unsubscribes without a page.
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        footer = url or mailto
        # base64: Korean is 3 bytes a character in UTF-8 and 9 in quoted-printable.
        message.set_content(self.text(footer), cte="base64")
        message.add_alternative(self.html(footer), subtype="html", cte="base64")
        return message


def _full_counts(total: int, max_full: int) -> Iterator[int]:
    """How many items keep their full text, tried in order: all, then max_full, halving to 0."""
    yield total
    keep = min(max_full, total - 1)
    while keep > 0:
        yield keep
        keep //= 2
    if total:
        yield 0


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def build_message(
    config: Config, issue: Issue, to: Subscriber, images: Mapping[str, Image] | None = None
) -> EmailMessage:
    return Composer(config, issue, images).message(to)


# dry run and hand-off ------------------------------------------------------------------------
@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent by an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # not delivered by this run, and why
    refused: list[str] = field(default_factory=list)  # of `failed`: permanent, not retried
    held: dict[str, str] = field(default_factory=dict)  # refused earlier, or in doubt
    stopped: str = ""  # why the run stopped before the end of the list
    written: list[Path] = field(default_factory=list)  # --dry-run
    shortened: int = 0  # items cut to one line to fit the size budget


def write_eml(
    config: Config,
    issue: Issue,
    folder: Path,
    subscribers: list[Subscriber],
    images: Mapping[str, Image] | None = None,
    *,
    unsubscribe_placeholder: str = "",
) -> SendReport:
    """--dry-run: one .eml per recipient, and the issue's HTML and text for a mailing service
    (listmonk, Buttondown, Mailchimp) whose unsubscribe link is `unsubscribe_placeholder`, e.g.
    listmonk's `{{ UnsubscribeURL }}`. Nothing is recorded."""
    composer = Composer(config, issue, images)
    report = SendReport(shortened=len(composer.short))
    target = folder / f"{issue.number:04d}"
    for index, subscriber in enumerate(subscribers, start=1):
        safe = re.sub(r"[^\w.@-]", "_", subscriber.email)
        path = target / f"{index:04d}-{safe}.eml"
        atomic_write(path, composer.message(subscriber).as_bytes())
        report.written.append(path)
    link = unsubscribe_placeholder or composer.footer_link("SUBSCRIBER@EXAMPLE.ORG")
    for name, body in (("email.html", composer.html(link)), ("email.txt", composer.text(link))):
        atomic_write(target / name, body)
        report.written.append(target / name)
    return report


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
        values = os.environ if env is None else env
        host = values.get("DIGEST_SMTP_HOST", "")
        if not host:
            raise ConfigError(
                "DIGEST_SMTP_HOST is not set — export DIGEST_SMTP_HOST (and _PORT, _USER, "
                "_PASSWORD, _STARTTLS), or use `digest send --dry-run`"
            )
        use_ssl = _flag(values, "DIGEST_SMTP_SSL")
        starttls = _flag(values, "DIGEST_SMTP_STARTTLS")
        if use_ssl and starttls:
            raise ConfigError(
                "DIGEST_SMTP_SSL and DIGEST_SMTP_STARTTLS are both set — SSL is for port 465, "
                "STARTTLS for 587: unset one"
            )
        try:
            port = int(values.get("DIGEST_SMTP_PORT") or (465 if use_ssl else 25))
        except ValueError:
            raise ConfigError("DIGEST_SMTP_PORT must be a number, e.g. 587") from None
        if not 0 < port < 65536:
            raise ConfigError(f"DIGEST_SMTP_PORT {port} is out of range — use e.g. 587")
        user = values.get("DIGEST_SMTP_USER", "")
        return cls(host, port, user, values.get("DIGEST_SMTP_PASSWORD", ""), starttls, use_ssl)

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


def _flag(values: Mapping[str, str], name: str) -> bool:
    return values.get(name, "").strip().lower() in ("1", "true", "yes", "on")


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
    """Send `issue` to every subscriber not yet sent it; see the module docstring for the log."""
    report = SendReport()
    pending = _pending(store, issue, subscribers, resend, report)
    if not pending:
        return report
    email = config.email
    pause = email.pause_seconds if pause_s is None else pause_s
    composer = Composer(config, issue, feed_images(store, issue))
    report.shortened = len(composer.short)
    sender = email.from_ or "newsletter@localhost"
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
