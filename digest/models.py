"""The values that travel between stages. Third-party objects stop at the fetchers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ArxivFields:
    """What an arXiv entry says beyond title and abstract (API or rss.arxiv.org)."""

    arxiv_id: str  # without version: "2604.12345", "cs/0701188"
    categories: tuple[str, ...] = ()
    primary_category: str = ""
    # rss.arxiv.org's announce type (new, cross, replace, replace-cross); the API's is derived.
    announce_type: str = ""
    updated: datetime | None = None  # the latest version's date (API)


@dataclass(frozen=True)
class RedditFields:
    """What a Reddit post says beyond title and selftext."""

    score: int = 0
    comments: int = 0
    link: str = ""  # where a link post points, when not at Reddit itself
    flair: str = ""
    stickied: bool = False  # a moderators' notice
    subreddit: str = ""
    # Why nothing is left to show, when the post was removed or deleted ("removed by
    # moderators", "deleted by its author"); "" for a live post. Selection leaves these out.
    removed: str = ""


@dataclass(frozen=True)
class Item:
    """One piece of news, normalized at the fetch boundary (`fetch.normalize.finish`): plain NFC
    text on one line in every text field, each within its cap; http(s) URLs parsed and written
    again; the HTML sanitized and free of line breaks; and the fields only its kind of source
    has, typed (`arxiv`, `reddit`)."""

    id: str  # canonical: "arxiv:2604.12345", or a cleaned URL / stable GUID
    title: str
    url: str
    source_id: str
    section_id: str
    published: datetime | None = None  # timezone-aware
    authors: tuple[str, ...] = ()
    summary: str = ""  # plain text
    html: str = ""  # sanitized (nh3) HTML of the body, when the feed has one
    arxiv: ArxivFields | None = field(default=None, compare=False)
    reddit: RedditFields | None = field(default=None, compare=False)

    @property
    def announce_type(self) -> str:
        return self.arxiv.announce_type if self.arxiv else ""

    @property
    def content_hash(self) -> str:
        """Key of the summary cache: changes when the text a model would read changes."""
        payload = json.dumps([self.id, self.title, self.summary], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO 8601, tuples as lists); `from_json` reads it back."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        data["authors"] = list(self.authors)
        if self.arxiv is not None:
            updated = self.arxiv.updated
            data["arxiv"] = {
                **asdict(self.arxiv),
                "categories": list(self.arxiv.categories),
                "updated": updated.isoformat() if updated else None,
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        """An item as `to_json` wrote it, or as stored before the typed fields (an `extra`
        dict with the same keys), so a store from an older version stays readable."""
        published = data.get("published")
        legacy = data.get("extra") or {}
        arxiv = data.get("arxiv") or ({**legacy} if legacy.get("arxiv_id") else None)
        reddit = data.get("reddit")
        if reddit is None and "score" in legacy:
            reddit = legacy
        return cls(
            id=data["id"],
            title=data["title"],
            url=data["url"],
            source_id=data["source_id"],
            section_id=data["section_id"],
            published=datetime.fromisoformat(published) if published else None,
            authors=tuple(data.get("authors") or ()),
            summary=data.get("summary") or "",
            html=data.get("html") or "",
            arxiv=_arxiv_fields(arxiv) if arxiv else None,
            reddit=_reddit_fields(reddit) if reddit else None,
        )


def _arxiv_fields(data: dict[str, Any]) -> ArxivFields:
    updated = data.get("updated")
    return ArxivFields(
        arxiv_id=str(data["arxiv_id"]),
        categories=tuple(str(c) for c in data.get("categories") or ()),
        primary_category=str(data.get("primary_category") or ""),
        announce_type=str(data.get("announce_type") or ""),
        updated=datetime.fromisoformat(updated) if updated else None,
    )


def _reddit_fields(data: dict[str, Any]) -> RedditFields:
    known = RedditFields.__dataclass_fields__
    return RedditFields(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Brief:
    """What the summarizer writes for one item. Korean labels live in issue.py."""

    key_sentence: str = ""  # quoted from the source, in its language
    summary: str = ""  # 요약
    significance: str = ""  # 의의
    glossary_note: str = ""  # 토막상식
    model: str = ""  # which backend/model wrote it
    needs_review: bool = False  # 검토 필요
    glossary_generated: bool = False  # the 토막상식 was proposed by the model, not curated
    review_reasons: tuple[str, ...] = ()  # why it needs review: each failed check, named

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Brief:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["review_reasons"] = tuple(known.get("review_reasons") or ())
        return cls(**known)
