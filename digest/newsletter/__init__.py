"""Email: subscribers (subscribers.py), the issue as a message (compose.py), and sending it once
per subscriber with a send log in the store (smtp.py)."""

from digest.newsletter.compose import (
    Composer,
    Image,
    SendReport,
    build_message,
    email_markdown,
    eml_name,
    feed_images,
    one_line,
    plain_text,
    sender_address,
    subject,
    web_url,
    write_eml,
)
from digest.newsletter.smtp import DEFERRED, REFUSED, SENDING, SENT, SmtpSettings, send
from digest.newsletter.subscribers import Subscriber, check_address, load_subscribers

__all__ = [
    "DEFERRED",
    "REFUSED",
    "SENDING",
    "SENT",
    "Composer",
    "Image",
    "SendReport",
    "SmtpSettings",
    "Subscriber",
    "build_message",
    "check_address",
    "email_markdown",
    "eml_name",
    "feed_images",
    "load_subscribers",
    "one_line",
    "plain_text",
    "send",
    "sender_address",
    "subject",
    "web_url",
    "write_eml",
]
