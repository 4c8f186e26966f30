"""Encodings at the edges, in one place. In: the text files people save (feeds.yaml, the
subscriber CSV) in the encodings their programs write — UTF-8 with or without a byte-order mark,
UTF-16 with one (Excel's "Unicode text"), CP949 where asked (Excel's "CSV" on Korean Windows).
Out: what goes into an email header — addresses with IDN domains in punycode, display names and
text on one line, URLs with the host in punycode and the rest %-encoded — checked when the
setting or the row is read, so a send never meets a value it cannot write."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from digest.errors import ConfigError

# Byte-order marks Windows editors and Excel's "Unicode text" write.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(
    data: bytes, file: Path, *, legacy: tuple[str, ...] = (), fix: str = "save it as UTF-8"
) -> str:
    """The bytes of `file`, a file a person saved, as text: by its byte-order mark (UTF-8,
    UTF-16), else UTF-8, else each of `legacy` in turn (e.g. "cp949"). Raises ConfigError
    `file:line: … — fix` when none reads it, or when it holds NUL characters (UTF-16 saved
    without a mark)."""
    tried = next(((c,) for bom, c in _BOMS if data.startswith(bom)), ("utf-8", *legacy))
    first: UnicodeDecodeError | None = None
    for codec in tried:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            first = first or exc
            continue
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise ConfigError(f"{file}:{line}: has NUL characters (UTF-16 without a mark?) — {fix}")
        return text
    assert first is not None
    line = data[: first.start].count(b"\n") + 1
    names = " or ".join(c.upper().removesuffix("-SIG") for c in tried)
    raise ConfigError(f"{file}:{line}: not {names} text (byte 0x{data[first.start]:02x}) — {fix}")


# email headers ---------------------------------------------------------------------------------
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Control characters and every line break str.splitlines knows (U+0085, U+2028, U+2029 too).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAILBOX = re.compile(r"(?P<name>.*?)\s*<(?P<address>[^<>]*)>")


def unsafe_text(text: str) -> bool:
    """Whether `text` has a line break (any that str.splitlines knows) or a control character:
    it could end a header line."""
    return bool(_CONTROL.search(text))


def check_address(text: str) -> str:
    """The address as it goes on the wire (IDN domains punycoded, lower-cased), or ValueError
    saying why. The part before @ must be ASCII: a Korean mailbox name needs SMTPUTF8."""
    address = text.strip()
    if not address:
        raise ValueError("it is empty")
    if any(c.isspace() for c in address) or any(c in address for c in '<>,;"()[]\\'):
        raise ValueError('it has spaces or one of <>,;"()[]\\')
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("it needs one @ between a name and a domain")
    if not _LOCAL.match(local):
        raise ValueError(
            f"the part before @ ({local!r}) is not a valid mailbox name (ASCII letters, digits "
            "and .!#$%&'*+/=?^_`{|}~- only)"
        )
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


def parse_mailbox(text: str) -> tuple[str, str]:
    """`address` or `Display Name <address>` (the name may be Korean, and quoted) as
    (name, address checked by `check_address`); name is "" when there is none. Raises
    ValueError for a line break or control character, or a bad address."""
    if unsafe_text(text):
        raise ValueError("it has a line break or a control character")
    match = _MAILBOX.fullmatch(text.strip())
    if not match:
        return "", check_address(text)
    name = match["name"].strip()
    if len(name) > 1 and name[0] == name[-1] == '"':
        name = name[1:-1].strip()
    return name, check_address(match["address"])


def header_url(text: str) -> str:
    """An http(s) URL as it may go into a header (RFC 3986/2369): the host in punycode and
    everything else that is not ASCII, a space or one of `"<>\\^`{|}` %-encoded; a
    `{email}` placeholder is kept. Raises ValueError for another scheme, no host, a user
    name or password, a bad port, or a line break or control character."""
    if unsafe_text(text):
        raise ValueError("it has a line break or a control character")
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("it is not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("it has a user name or password before the host")
    host = parts.hostname
    try:
        host = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError):
        raise ValueError(f"{parts.netloc!r} is not a valid host (and port)") from None
    rest = text.strip()[len(parts.scheme) + 3 + len(parts.netloc) :]
    safe = "!#$&'()*+,/:;=?@~%"
    rest = "{email}".join(
        quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", piece), safe=safe)
        for piece in rest.split("{email}")
    )
    return f"{parts.scheme.lower()}://{host}{f':{port}' if port else ''}{rest}"


def site_url(text: str) -> str:
    """The site's public address as every page, the feed's ids and `xml:base` use it: ""
    for a blank setting, else an http(s) URL as `header_url` writes it (a space or Korean in
    the path %-encoded). Raises ValueError as `header_url` does."""
    return header_url(text) if text.strip() else ""


def link_url(text: str) -> str:
    """A link setting that every reader gets alike (the subscribe link), as it may go into an
    href or a header: an http(s) URL as `header_url` writes it, or `mailto:` with each address
    checked by `check_address` and the query (`?subject=구독`) %-encoded; "" for a blank
    setting. Raises ValueError, with the fix after " — ", for another scheme, a bad address,
    an `{email}` placeholder, or a line break or control character."""
    fix = " — use the https:// address of a sign-up form or page, or mailto:ADDRESS"
    if not text.strip():
        return ""
    if unsafe_text(text):
        raise ValueError("it has a line break or a control character" + fix)
    if "{email}" in text:
        raise ValueError("it has {email}, but it is the same link for every reader" + fix)
    scheme, _, rest = text.strip().partition(":")
    if scheme.lower() != "mailto":
        try:
            return header_url(text)
        except ValueError as exc:
            problem = str(exc)
            if scheme.lower() not in ("http", "https"):
                problem = "it is neither an http:// or https:// URL nor a mailto: address"
            raise ValueError(problem + fix) from None
    to, _, query = rest.partition("?")
    try:
        addresses = [check_address(unquote(a)) for a in to.split(",")]
    except ValueError as exc:
        raise ValueError(f"the address after mailto: is not valid: {exc}{fix}") from None
    query = quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", query), safe="=&%+-._~!$'()*,;:@/?")
    return f"mailto:{','.join(addresses)}" + (f"?{query}" if query else "")
