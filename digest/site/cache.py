"""Parsed issue files kept between builds, keyed by the hash of each file's bytes.

Parsing 1,000 issue files (YAML front matter and all) takes seconds; unpickling them takes a
fraction of that. The cache is only ever a shortcut: a file whose bytes changed is parsed again,
and a cache written by another version of the `Issue` model is ignored, never half-trusted.
It lives in the state folder (`.digest/cache/`), not in the site, in shards of 100 issue
numbers, so a new issue rewrites one small shard rather than the whole cache.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import digest
from digest import issue as issues
from digest.config import Config
from digest.issue import Issue
from digest.site.manifest import hash_bytes
from digest.store import StatePaths

SHARD = 100
_NUMBER = re.compile(r"(\d+)\.md$")
_UNREADABLE = (OSError, ImportError, pickle.UnpicklingError, EOFError, ValueError, TypeError)


def _model_version() -> str:
    """The issue document's schema number and digest's version: a cache written under another
    `issue.SCHEMA` (a new field, a new parse rule) is ignored, never half-trusted."""
    return f"{digest.__version__}:{issues.SCHEMA}"


def _shard_of(path: Path) -> int:
    match = _NUMBER.search(path.name)
    return int(match[1]) // SHARD if match else -1


class IssueCache:
    """Parsed issues of one state folder, by the hash of their file's bytes, in pickled shards
    of SHARD issue numbers under `.digest/cache/issues/`. A build calls `start`, `parse` for
    each file and `save`; an unreadable shard or one from another schema is ignored."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = StatePaths(state_dir).issue_cache
        self.version = _model_version()
        self.shards: dict[int, dict[str, Issue]] = {}
        self.used: dict[int, set[str]] = {}
        self.dirty: set[int] = set()

    def start(self) -> IssueCache:
        """Begin a build: `digest serve` keeps one cache in memory across its rebuilds."""
        self.used = {}
        return self

    def _shard(self, number: int) -> dict[str, Issue]:
        if number not in self.shards:
            self.shards[number] = {}
            try:
                with (self.folder / f"{number}.pickle").open("rb") as handle:
                    version, entries = pickle.load(handle)
            except (*_UNREADABLE, AttributeError):
                return self.shards[number]  # none yet, or unreadable: parse this time
            if version == self.version and isinstance(entries, dict):
                self.shards[number] = entries
        return self.shards[number]

    def parse(self, data: bytes, digest_hex: str, path: Path) -> Issue:
        """The issue in `data` (the bytes of `path`, hashed as `digest_hex`): the cached copy,
        or parsed now. Raises IssueFileError when the file cannot be parsed, and
        UnicodeDecodeError when it is not UTF-8."""
        number = _shard_of(path)
        shard = self._shard(number)
        self.used.setdefault(number, set()).add(digest_hex)
        cached = shard.get(digest_hex)
        if cached is not None:
            cached.path = path  # the same bytes may have moved (renumbered at publish)
            return cached
        parsed = issues.parse(data.decode("utf-8"), path)
        shard[digest_hex] = parsed
        self.dirty.add(number)
        return parsed

    def save(self) -> None:
        """Write the shards that changed, keeping only entries this build used."""
        for number, shard in self.shards.items():
            used = self.used.get(number, set())
            if number not in self.dirty and len(used) == len(shard):
                continue
            kept = {k: v for k, v in shard.items() if k in used}
            self.folder.mkdir(parents=True, exist_ok=True)
            # A cache needs no fsync: a torn file fails to unpickle and is simply rebuilt.
            tmp = self.folder / f".{number}.pickle.{os.getpid()}"
            tmp.write_bytes(pickle.dumps((self.version, kept), pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, self.folder / f"{number}.pickle")
            self.shards[number] = kept
        self.dirty = set()


@dataclass(frozen=True)
class SourceIssue:
    """An issue with the hash of its file's bytes: what a page made from it depends on."""

    issue: Issue
    digest: str


def load_issues(config: Config, *, include_drafts: bool) -> list[SourceIssue]:
    """Published issues (drafts too when asked), by number, each with its file's hash. A
    draft shows the number it will be published as (`issue.expected_number`), as `review`
    and `status` say it: one number per draft in every command."""
    folder = config.issues_path
    if not folder.is_dir():
        return []
    cache = _issue_cache(config.state_path).start()
    loaded = []
    for path in issues.issue_files(folder):
        data = path.read_bytes()
        digest = hash_bytes(data)
        issue = cache.parse(data, digest, path)
        if issue.status == "published" or include_drafts:
            loaded.append(SourceIssue(issue, digest))
    with contextlib.suppress(OSError):  # a read-only state folder costs only the shortcut
        cache.save()
    everyone = [s.issue for s in loaded]
    loaded = [
        s
        if s.issue.status == "published"
        else SourceIssue(
            issues.with_status(
                s.issue, s.issue.status, number=issues.expected_number(everyone, s.issue)
            ),
            s.digest,
        )
        for s in loaded
    ]
    loaded.sort(key=lambda s: (s.issue.number, s.issue.date))
    return loaded


def _issue_cache(state_dir: Path) -> IssueCache:
    cache = _CACHES.get(state_dir)
    if cache is None:
        cache = _CACHES[state_dir] = IssueCache(state_dir)
    return cache


_CACHES: dict[Path, IssueCache] = {}
