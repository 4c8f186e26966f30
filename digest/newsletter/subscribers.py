"""Subscribers: the CSV named by `email.subscribers` (email,name,status), checked address by
address (RFC 5321 lengths, a domain that can receive mail). The file is read in the encodings a
Korean spreadsheet writes: UTF-8 (with or without a byte-order mark), UTF-16 with one (Excel's
"유니코드 텍스트", tab-separated), and CP949 (Excel's plain "CSV (쉼표로 분리)" on Korean
Windows)."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest.config import Config
from digest.encoding import MAX_ADDRESS, check_address, decode_text, unsafe_text
from digest.errors import ConfigError

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "ACTIVE_STATUSES",
    "INACTIVE_STATUSES",
    "MAX_ADDRESS",
    "Subscriber",
    "check_address",
    "load_subscribers",
]

# CSV `status` values: who gets the newsletter and who does not.
ACTIVE_STATUSES = frozenset({"", "active", "subscribed", "confirmed"})
INACTIVE_STATUSES = frozenset({"unsubscribed", "bounced", "complained", "inactive"})
# Column names a Korean sheet may use for the same columns.
_COLUMNS = {
    "이메일": "email",
    "메일": "email",
    "이메일 주소": "email",
    "이름": "name",
    "상태": "status",
}
_SAVE_AS = 'save it from the spreadsheet as "CSV UTF-8 (쉼표로 분리)"'


@dataclass(frozen=True)
class Subscriber:
    """An active subscriber: the address as checked by `check_address` (domain punycoded and
    lower-cased) and the display name for the To header ("" for none)."""

    email: str
    name: str = ""


def load_subscribers(config: Config) -> list[Subscriber]:
    """Active subscribers from the CSV in email.subscribers (email, name, optional status),
    in file order, each address once (ignoring case).

    Raises ConfigError, naming the file and the fix, when the setting is empty, the file is
    missing or unreadable, its encoding is none of those above, it has no email column or its
    quoting is broken; and for bad rows, every one at once by the physical line it starts on
    (a quoted name may span lines), so one pass fixes the file."""
    if not config.email.subscribers:
        raise ConfigError("feeds.yaml: email.subscribers is not set — name a CSV file of emails")
    path = config.path(config.email.subscribers)
    if not path.is_file():
        raise ConfigError(f"{path}: subscribers file not found — create it (columns: email,name)")
    try:
        text = decode_text(path.read_bytes(), path, legacy=("cp949",), fix=_SAVE_AS)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}) — check it") from None
    first = text.lstrip("\ufeff").partition("\n")[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _rows(reader, path)
    except csv.Error as exc:
        raise ConfigError(
            f"{path}:{reader.line_num}: {exc} — check the quotes there, or {_SAVE_AS}"
        ) from None


def _rows(reader: Reader, path: Path) -> list[Subscriber]:
    header: list[str] = next(reader, [])
    columns = [_column(cell) for cell in header]
    if "email" not in columns:
        raise ConfigError(
            f"{path}:1: no 'email' column — the first line must name the columns, "
            "e.g. email,name,status"
        )
    subscribers: list[Subscriber] = []
    problems: list[str] = []
    seen: set[str] = set()
    start = reader.line_num + 1
    for cells in reader:
        # A record starts on the line after the previous one ended (blank lines are records too).
        line, start = start, reader.line_num + 1
        row = dict(zip(columns, (unicodedata.normalize("NFC", c) for c in cells), strict=False))
        raw = row.get("email", "").strip()
        if not raw and not any(c.strip() for c in cells):
            continue  # a blank line
        status = row.get("status", "").strip().lower()
        if status in INACTIVE_STATUSES:
            continue
        if status not in ACTIVE_STATUSES:
            known = ", ".join(sorted((ACTIVE_STATUSES | INACTIVE_STATUSES) - {""}))
            problems.append(f"{path}:{line}: status {status!r} — use one of: {known} (or none)")
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
            subscribers.append(Subscriber(address, _display_name(row.get("name", ""))))
    if problems:
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConfigError("\n".join(problems[:20]) + more)
    return subscribers


def _column(cell: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", cell).strip("\ufeff \t").lower().split())
    return _COLUMNS.get(name, name)


def _display_name(text: str) -> str:
    """The name for the To header: one line, no control characters (compose encodes it)."""
    return " ".join("".join(" " if unsafe_text(c) else c for c in text).split())
