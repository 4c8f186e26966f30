"""The hostile-feed corpus: every file in tests/fixtures/hostile/ through the real fetch stage.

Each fixture says in its header what it is (`what:`), which fetcher reads it (`source:`) and
what must happen (`expect: items N` or `expect: error <words of the reason>`). Whatever the
case: the source is reported with a one-line reason or yields its items, the good feed beside
it is fetched all the same, nothing raises, no field of an item holds a line break, and no
markup or non-http(s) url gets through. A title is text: `<script>` in it is eight characters,
which the renderers escape (issue 14, kind 1), so titles are held to the text rules instead.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from feeds_helpers import META, fast_client, feed
from pytest_httpserver import HTTPServer

from digest.config import Config
from digest.fetch import fetch_all
from digest.fetch.normalize import TITLE_CHARS, sanitize_html
from digest.models import Item
from digest.store import Store

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if p.suffix in (".xml", ".json"))
DANGER = re.compile(r"<script|javascript:|vbscript:|data:|onerror|onload|onclick|<iframe", re.I)


def header(name: str) -> dict[str, Any]:
    """The fixture's self-description: an XML comment, or a JSON `_fixture` object."""
    raw = (HOSTILE / name).read_bytes()
    if name.endswith(".json"):
        found = re.search(rb'"_fixture": (\{.*?\})', raw, re.S)
        assert found, f"{name}: no _fixture header"
        return dict(json.loads(found.group(1)))
    text = _decode(raw[:4096])
    comment = text[text.index("<!--") + 4 : text.index("-->")]
    fields: dict[str, Any] = {}
    for line in comment.strip().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    if "titles" in fields:
        fields["titles"] = [t.strip() for t in fields["titles"].split(" | ")]
    return fields


def _decode(head: bytes) -> str:
    """Headers are in the fixture's own encoding (an EUC-KR feed's titles are EUC-KR)."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    return head.decode("latin-1")


def body(name: str, fields: dict[str, Any]) -> bytes:
    raw = (HOSTILE / name).read_bytes()
    if "expand" not in fields:
        return raw
    times = int(fields["expand"])
    start, end = raw.index(b"<!--EXPAND-->"), raw.index(b"<!--/EXPAND-->")
    block = raw[start + len(b"<!--EXPAND-->") : end].decode()
    copies = "".join(block.replace("{n}", str(n)) for n in range(times)).encode()
    return raw[:start] + copies + raw[end:]


def assert_clean(item: Item) -> None:
    assert_one_line(item)
    assert unicodedata.is_normalized("NFC", item.title + item.summary), item.title
    assert len(item.title) <= TITLE_CHARS
    assert item.url.startswith(("http://", "https://")), item.url
    assert sanitize_html(item.html) == item.html
    assert not DANGER.search(item.html), item.html
    assert not re.search(r"<script", item.summary, re.I)
    assert "root:x:" not in item.title + item.summary + item.html  # no /etc/passwd (XXE)
    if item.reddit and item.reddit.link:
        assert item.reddit.link.startswith(("http://", "https://")), item.reddit.link


def assert_one_line(item: Item) -> None:
    """No text in any field of the item can end a line (str.splitlines knows every break)."""
    for value in _texts(astuple(item)):
        assert len(value.splitlines()) <= 1 and not value.endswith(("\n", "\r")), repr(value)


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [text for part in value for text in _texts(part)]
    return []


def test_the_corpus_is_big_enough_and_self_describing() -> None:
    assert len(CASES) >= 30
    for name in CASES:
        fields = header(name)
        assert fields["what"] and fields["expect"], name
        assert fields["source"] in ("rss", "reddit", "arxiv"), name


@pytest.mark.parametrize("name", CASES)
def test_hostile_case(name: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    fields = header(name)
    kind = "application/json" if name.endswith(".json") else "application/xml"
    httpserver.expect_request(f"/h/{name}").respond_with_data(body(name, fields), content_type=kind)
    httpserver.expect_request("/good").respond_with_data(feed(META))
    hostile: dict[str, Any] = {"id": "hostile", "type": fields["source"]}
    hostile["url"] = httpserver.url_for(f"/h/{name}")
    if fields["source"] == "arxiv":
        hostile["query"] = "cat:cs.LG"
    config = Config.model_validate(
        {
            "sections": [
                {"id": "news", "title": "뉴스",
                 "sources": [hostile, {"id": "good", "type": "rss", "url": httpserver.url_for("/good")}]}
            ],
            "base_dir": tmp_path,
        }
    )  # fmt: skip
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store, fast_client(retries=1))
        stored = store.items(["hostile"])
    outcome, good = report.outcomes
    assert good.error is None and good.items == 3, "the good feed beside it must not suffer"
    expect = fields["expect"]
    if expect.startswith("error"):
        assert outcome.error, f"{name}: expected a reported failure"
        assert "\n" not in outcome.error and len(outcome.error) <= 300
        assert expect.removeprefix("error").strip() in outcome.error
    elif expect.startswith("items"):
        wanted = re.match(r"items (\d+)", expect)
        assert wanted and outcome.error is None, outcome.error
        assert outcome.items == int(wanted.group(1))
        ids = re.search(r"ids (\d+)", expect)
        if ids:
            assert len(stored) == int(ids.group(1))
    else:  # "no crash": either outcome is fine, but it is one or the other
        assert outcome.error is None or "\n" not in outcome.error
    if "titles" in fields:
        titles = [i.title for i in sorted(stored, key=lambda i: i.url)]
        assert sorted(titles) == sorted(fields["titles"])
    for item in stored:
        assert_clean(item)
