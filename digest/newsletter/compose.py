"""The issue as an email: HTML with its CSS inlined and a plain-text part, from the same `Issue`
and the same Jinja environment as the site (`email.html.j2`, `email.txt.j2`). Gmail clips an
HTML part over ~102 KB and hides the unsubscribe link with it, so a long issue shortens its later
items to fit `email.max_html_bytes`. Every header is encoded by the rules (RFC 2047 words,
RFC 2369/8058 List-Unsubscribe). `write_eml` is the dry run and the hand-off to a mailing
service."""

from __future__ import annotations

import hashlib
import html.parser
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.header import Header
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
from digest.encoding import parse_mailbox
from digest.errors import SendError
from digest.issue import Issue, IssueItem, Section
from digest.newsletter.subscribers import MAX_ADDRESS, Subscriber
from digest.site import model as site_model
from digest.site.model import issue_url
from digest.site.subscription import subscription
from digest.store import Store, atomic_write
from digest.templates import markdown, template_env

# Tracking pixels and vector images are not a feed's pictures; SVG does not show in email.
_NOT_A_PICTURE = re.compile(r"feedburner|/~r/|/~ff/|pixel|stats\.wp\.com|\.svg(\?|$)", re.I)
# The HTML is measured with the longest unsubscribe link any recipient can have, so the budget
# holds for everyone: an address of 254 characters that all need %-quoting.
_WORST_ADDRESS = "+" * (MAX_ADDRESS - len("@example.org")) + "@example.org"


# images --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Image:
    """An item's picture in the email: the feed's http(s) image URL and its alt text."""

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
    """`text` (one line of inline Markdown) as safe HTML for the email: raw HTML and images
    off, so a brief cannot add markup or a picture (a tracking pixel)."""
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
    """The issue's page on the site (`site.url` + issues/NNNN/), or "" without a `site.url`."""
    return f"{config.site.url.rstrip('/')}/{issue_url(issue)}" if config.site.url else ""


def subject(config: Config, issue: Issue) -> str:
    """The Subject line: `[뉴랄브리핑] 제 0042호 (2026-11-23)`, with feeds.yaml's title."""
    return f"[{config.title}] 제 {issue.number:04d}호 ({issue.date.isoformat()})"


class _EmailPolicy(EmailPolicy):
    """Headers that carry URLs are written one URL a line. The default folder turns a URL longer
    than a line into RFC 2047 encoded words, which no client reads as a URL. Korean text (the
    Subject, display names) is written by the `email.header` encoder: the default folder can
    put the space between two encoded words outside them, where RFC 2047 decoders drop it
    ("[뉴랄브리핑]제 0042호"), for about one title in fifty."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-unsubscribe":
            return f"{name}: " + f",{self.linesep} ".join(_uris(value)) + self.linesep
        if name.lower() in _WORDS and not str(value).isascii():
            return f"{name}: {_encoded_words(name, value, self.linesep)}{self.linesep}"
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-unsubscribe" or (
            name.lower() in _WORDS and not str(value).isascii()
        ):
            return self.fold(name, value).encode("ascii")
        return bytes(super().fold_binary(name, value))


# Headers with text for people: the Subject, and the display names of the address headers.
_WORDS = {"subject", "from", "to", "reply-to"}


def _encoded_words(name: str, value: Any, linesep: str) -> str:
    """The value of header `name` as RFC 2047 words where it is not ASCII, folded: the whole
    Subject; of an address header, each display name (addresses are ASCII, checked on load)."""
    if name.lower() == "subject":
        return str(Header(str(value), "utf-8", header_name=name).encode(linesep=linesep))
    mailboxes = []
    for address in value.addresses:
        shown = address.display_name
        if shown.isascii():
            mailboxes.append(formataddr((shown, address.addr_spec)))
        else:
            words = Header(shown, "utf-8", header_name=name).encode(linesep=linesep)
            mailboxes.append(f"{words} <{address.addr_spec}>")
    return ", ".join(mailboxes)


def _uris(value: str) -> list[str]:
    """The <URI>s of a List-Unsubscribe value, each in ASCII: the settings are encoded when
    loaded, and anything else that is not printable ASCII is %-encoded here, never sent raw."""
    return [
        "<" + re.sub(r"[^!-~]", lambda m: quote(m.group(), safe=""), u.strip(" <>")) + ">"
        for u in re.findall(r"<[^>]*>", str(value))
    ]


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
        self.links = subscription(config)
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
            "subscribe": self.links.subscribe,
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
        """(mailto, URL): where a reader's client sends an unsubscribe. The mailto goes to
        `email.reply_to`, else `email.from` (digest/site/subscription.py, the rule the site's
        unsubscribe page follows too). The URL is `email.unsubscribe_url` with the address
        %-encoded, or "" when it is not set: a static site cannot unsubscribe anyone, so no
        URL is made up from `site.url`."""
        links = self.links
        if not links.operator:  # neither reply_to nor from: the From address stands in
            links = replace(links, operator=_sender(self.config)[1])
        return links.unsubscribe_mailto(address), links.unsubscribe_link(address)

    def footer_link(self, address: str) -> str:
        """The footer's 구독 해지 link for `address`: the service's URL when feeds.yaml names
        one, else the mailto (the footer then says that sending it is the request)."""
        mailto, url = self.unsubscribe_links(address)
        return url or mailto

    def message(self, to: Subscriber) -> EmailMessage:
        """The message for one recipient: headers (display names as RFC 2047 words, IDN
        domains in punycode, URLs %-encoded), the text part and the HTML part."""
        config = self.config
        name, sender = _sender(config)
        mailto, url = self.unsubscribe_links(to.email)
        message = EmailMessage(policy=POLICY)
        message["Subject"] = subject(config, self.issue)
        message["From"] = formataddr((name or config.title, sender))
        message["To"] = formataddr((to.name, to.email)) if to.name else to.email
        message["Date"] = format_datetime(clock.now(config.timezone))
        message["Message-ID"] = make_msgid(f"digest.{self.issue.number:04d}", _domain(sender))
        if config.email.reply_to:
            message["Reply-To"] = formataddr(_mailbox(config.email.reply_to))
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


@lru_cache(maxsize=64)
def _mailbox(setting: str) -> tuple[str, str]:
    """(display name, address) of a From or Reply-To setting, checked when feeds.yaml loaded."""
    return parse_mailbox(setting)


def _sender(config: Config) -> tuple[str, str]:
    """(display name or "", address) of `email.from`; newsletter@localhost when it is unset."""
    return _mailbox(config.email.from_) if config.email.from_ else ("", "newsletter@localhost")


def sender_address(config: Config) -> str:
    """The envelope sender (SMTP MAIL FROM): `email.from`'s address alone, in punycode."""
    return _sender(config)[1]


# An .eml name keeps at most this many characters of the address; a longer one ends in a hash
# of the whole address instead, so the name stays unique, stable and within a file system's
# 255 bytes (with the temporary name atomic_write gives it).
_EML_ADDRESS_CHARS = 80


def eml_name(index: int, address: str) -> str:
    """The dry run's file name for the `index`-th recipient: `0001-reader@example.org.eml`;
    the address part is at most 80 characters, whatever the address."""
    safe = re.sub(r"[^\w.@-]", "_", address, flags=re.ASCII)
    if len(safe) > _EML_ADDRESS_CHARS:
        digest = hashlib.sha256(address.encode()).hexdigest()[:12]
        safe = f"{safe[: _EML_ADDRESS_CHARS - 13]}-{digest}"
    return f"{index:04d}-{safe}.eml"


def build_message(
    config: Config, issue: Issue, to: Subscriber, images: Mapping[str, Image] | None = None
) -> EmailMessage:
    """The message for one recipient (tests, previews); sending many uses one `Composer`.
    Raises SendError when the HTML cannot fit `email.max_html_bytes`."""
    return Composer(config, issue, images).message(to)


# dry run and hand-off ------------------------------------------------------------------------
@dataclass
class SendReport:
    """What a send (or a dry run) did, by recipient address."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent by an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # not delivered by this run, and why
    refused: list[str] = field(default_factory=list)  # of `failed`: permanent, not retried
    held: dict[str, str] = field(default_factory=dict)  # refused earlier, or in doubt
    stopped: str = ""  # why the run stopped before the end of the list
    written: list[Path] = field(default_factory=list)  # --dry-run
    shortened: int = 0  # items cut to one line to fit the size budget

    def merged(self, other: SendReport) -> SendReport:
        """This report and `other` (a later issue's send) as one: lists joined, the later
        reason and stop kept."""
        return SendReport(
            sent=[*self.sent, *other.sent],
            skipped=[*self.skipped, *other.skipped],
            failed={**self.failed, **other.failed},
            refused=[*self.refused, *other.refused],
            held={**self.held, **other.held},
            stopped=other.stopped or self.stopped,
            written=[*self.written, *other.written],
            shortened=self.shortened + other.shortened,
        )


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
        path = target / eml_name(index, subscriber.email)
        atomic_write(path, composer.message(subscriber).as_bytes())
        report.written.append(path)
    link = unsubscribe_placeholder or composer.footer_link("SUBSCRIBER@EXAMPLE.ORG")
    for name, body in (("email.html", composer.html(link)), ("email.txt", composer.text(link))):
        atomic_write(target / name, body)
        report.written.append(target / name)
    return report
