"""Subscribers: the CSV named by `email.subscribers` (email,name,status), checked address by
address (RFC 5321 lengths, a domain that can receive mail)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from digest.config import Config
from digest.errors import ConfigError

# CSV `status` values: who gets the newsletter and who does not.
ACTIVE_STATUSES = frozenset({"", "active", "subscribed", "confirmed"})
INACTIVE_STATUSES = frozenset({"unsubscribed", "bounced", "complained", "inactive"})
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Subscriber:
    """An active subscriber: the address as checked by `check_address` (domain punycoded and
    lower-cased) and the display name for the To header ("" for none)."""

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
