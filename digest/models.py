"""The values that travel between stages. Third-party objects stop at the fetchers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Item:
    """One piece of news, normalized at the fetch boundary."""

    id: str  # canonical: "arxiv:2604.12345", or a cleaned URL / stable GUID
    title: str
    url: str
    source_id: str
    section_id: str
    published: datetime | None = None  # timezone-aware
    authors: tuple[str, ...] = ()
    summary: str = ""  # plain text
    html: str = ""  # sanitized (nh3) HTML of the body, when the feed has one
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def content_hash(self) -> str:
        """Key of the summary cache: changes when the text a model would read changes."""
        payload = json.dumps([self.id, self.title, self.summary], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        data["authors"] = list(self.authors)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        published = data.get("published")
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
            extra=dict(data.get("extra") or {}),
        )


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
