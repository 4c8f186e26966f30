"""One error family. Only the CLI turns these into messages and exit codes."""

from __future__ import annotations

# Exit codes, the same for every command (ARCHITECTURE.md).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOTHING_NEW = 3
EXIT_SOURCE_FAILED = 4


class DigestError(Exception):
    """Base error: the message names the thing and the fix."""

    exit_code = EXIT_FAILED


class ConfigError(DigestError):
    """feeds.yaml (or a flag) is wrong; the message carries file:line and the fix."""

    exit_code = EXIT_USAGE


class FetchError(DigestError):
    """A source could not be fetched; carries the source id or URL."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.headers: dict[str, str] = {}  # response headers, when a server answered
        self.detail = ""  # the start of an error answer's body, for messages


class TransientFetchError(FetchError):
    """A failure worth one more try: timeouts, resets, 429 and 5xx."""


class IssueFileError(DigestError):
    """An issue Markdown file cannot be parsed; names the file and line."""


class NothingNew(DigestError):
    """Not a failure: no new items, no issue made, nothing left to send."""

    exit_code = EXIT_NOTHING_NEW


class LockedError(DigestError):
    """Another run holds the lock."""


class SendError(DigestError):
    """Email could not be sent."""
