"""How a reader comes and goes: the 구독하기 link on every page and under every email, and where
an unsubscribe goes, from feeds.yaml's `email:` settings.

The site is static: it can take neither a sign-up nor an unsubscribe by itself. So every link
goes where one is taken: the operator's mailbox (`email.reply_to`, else `email.from`) unless
the operator named a service (`email.subscribe_url`, `email.unsubscribe_url`). The site's
`unsubscribe/` page says which, and what happens next; the email's footer and its
List-Unsubscribe header (`digest/newsletter/compose.py`) use the same links.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from digest.config import Config
from digest.encoding import parse_mailbox

# Subjects of the mails the default links open: ASCII words an operator can filter on, and
# what Gmail and other clients send for a mailto: List-Unsubscribe.
SUBSCRIBE_SUBJECT = "subscribe"
UNSUBSCRIBE_SUBJECT = "unsubscribe"
EMAIL_PLACEHOLDER = "{email}"


def mailto(mailbox: str, subject: str) -> str:
    """`mailto:MAILBOX?subject=…` with the subject %-encoded (an address in it too)."""
    return f"mailto:{mailbox}?subject={quote(subject)}"


@dataclass(frozen=True)
class Subscription:
    """The ways in and out: `operator`, the address readers write to ("" when feeds.yaml has
    neither `reply_to` nor `from`); `subscribe_url` and `unsubscribe_url` as set in feeds.yaml
    ("" for by mail; the latter may hold `{email}`, replaced per recipient)."""

    operator: str = ""
    subscribe_url: str = ""
    unsubscribe_url: str = ""

    @property
    def subscribe(self) -> str:
        """The 구독하기 href: `subscribe_url`, else a mail to the operator with the subject
        "subscribe"; "" when there is neither (the pages then show no link)."""
        if self.subscribe_url:
            return self.subscribe_url
        return mailto(self.operator, SUBSCRIBE_SUBJECT) if self.operator else ""

    @property
    def personal(self) -> bool:
        """Whether the service's unsubscribe link differs per reader (`{email}` in it), so the
        site cannot show it and points at the link in each email instead."""
        return EMAIL_PLACEHOLDER in self.unsubscribe_url

    @property
    def unsubscribe_page(self) -> str:
        """The service's unsubscribe URL when it is the same for everyone (the site links it);
        "" when there is none or it is personal."""
        return "" if self.personal else self.unsubscribe_url

    def unsubscribe_mailto(self, address: str = "") -> str:
        """A mail to the operator asking to unsubscribe `address` (the subject names it, so a
        reader who writes from another mailbox is still found); "" without an operator."""
        subject = f"{UNSUBSCRIBE_SUBJECT} {address}" if address else UNSUBSCRIBE_SUBJECT
        return mailto(self.operator, subject) if self.operator else ""

    def unsubscribe_link(self, address: str) -> str:
        """The service's unsubscribe URL for `address` (%-encoded into `{email}`), or "" when
        feeds.yaml names no service."""
        return self.unsubscribe_url.replace(EMAIL_PLACEHOLDER, quote(address, safe=""))


def subscription(config: Config) -> Subscription:
    """The reader's ways in and out for `config` (its `email:` settings, checked at load)."""
    email = config.email
    setting = email.reply_to or email.from_
    operator = parse_mailbox(setting)[1] if setting else ""
    return Subscription(operator, email.subscribe_url, email.unsubscribe_url)
