"""Re-drafting a day the editor has touched keeps every edit, note, drop and order; it appends
only new items (flagged 새 항목) and fills briefs that are still empty."""

from __future__ import annotations

from datetime import date

import yaml
from conftest import CliResult, Newsroom

from digest import desk as review
from digest import issue as issues
from digest.config import load_config
from digest.draft import make_draft
from digest.models import Brief, Item
from digest.store import Store
from digest.summarize.extractive import ExtractiveSummarizer

DAY = "2026-04-30"
NEW_POST = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Google Research Blog</title><link>https://research.google/blog/</link>
<item><title>A brand new post about reinforcement learning</title>
<link>https://research.google/blog/a-brand-new-post/</link>
<pubDate>Thu, 30 Apr 2026 10:00:00 +0000</pubDate>
<description>We present a new reinforcement learning method. It learns from fewer trials than
any method before it, which matters for robots.</description></item>
</channel></rss>"""


def digest(run_cli, room: Newsroom, *args: str) -> CliResult:
    return run_cli("--config", str(room.config), *args)


def redraft(run_cli, room: Newsroom) -> CliResult:
    return digest(run_cli, room, "daily", "--date", DAY, "--no-send", "--no-publish")


def test_a_redraft_keeps_every_edit_and_appends_new_items(run_cli, newsroom: Newsroom) -> None:
    assert redraft(run_cli, newsroom).code == 0
    path = newsroom.issue(1)
    original = issues.load(path)
    dropped = original.items[1]
    for step in [
        ("drop", "2"),
        ("note", "1", "애네 블로그는 매번 자기네 제품 자랑만 하는듯"),
        ("move", "2", "--to", "1"),
        ("keywords", "add", "AutoML"),
    ]:
        assert digest(run_cli, newsroom, "review", *step).code == 0
    # A hand edit too: a reworded summary and a free line of the editor's own.
    first = issues.load(path).items[0]
    text = path.read_text().replace(first.summary, "손으로 다시 쓴 요약임.", 1)
    text = text.replace("## AWS 머신러닝 블로그", "- 손으로 덧붙인 줄\n\n## AWS 머신러닝 블로그", 1)
    path.write_text(text)
    edited = path.read_text()

    # The same feeds again: nothing new, nothing changed, the drop is not proposed again.
    assert redraft(run_cli, newsroom).code == 3
    assert path.read_text() == edited

    # A new post arrives and the editor made room for it in the section.
    settings = yaml.safe_load(newsroom.config.read_text())
    settings["sections"][0]["max_items"] = 4
    newsroom.config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", NEW_POST)
    empty = "<rss version='2.0'><channel><title>t</title></channel></rss>"
    for other in ("aws-ml-blog.xml", "meta-ai-research.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(f"/feeds/{other}", empty)
    newsroom.serve("/feeds/reddit-machinelearning.json", '{"data": {"children": []}}')
    assert redraft(run_cli, newsroom).code == 0
    after = issues.load(path)
    google = after.section("google")
    assert google is not None
    assert google.items[-1].title == "A brand new post about reinforcement learning"
    assert google.items[-1].new and "새 항목" in path.read_text()
    # Everything before the new item is exactly what the editor left.
    kept = issues.to_markdown(issues.parse(edited))
    head = kept.split("## AWS 머신러닝 블로그")[0]
    assert path.read_text().startswith(head.rstrip("\n"))
    assert google.items[0].summary == "손으로 다시 쓴 요약임."
    assert google.items[1].note == "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
    assert after.keywords == ["AutoML"] and [d.id for d in after.dropped] == [dropped.id]
    assert dropped.id not in after.item_ids
    # Approving clears the 새 항목 flags: the editor has seen them.
    assert digest(run_cli, newsroom, "review", "approve", "--yes").code == 0
    assert not any(item.new for item in issues.load(path).items)


def test_a_redraft_fills_briefs_still_missing(run_cli, newsroom: Newsroom) -> None:
    assert redraft(run_cli, newsroom).code == 0
    path = newsroom.issue(1)
    first = issues.load(path).items[0]
    bare = path.read_text()
    for line in (f"> {first.key_sentence}", f"- **[요약]** {first.summary}"):
        bare = bare.replace(line + "\n", "", 1)
    bare = bare.replace(f"- **[토막상식]** {first.glossary_note}\n", "", 1)
    path.write_text(bare)
    assert issues.load(path).items[0].summary == ""
    assert redraft(run_cli, newsroom).code == 0
    filled = issues.load(path).items[0]
    assert filled.summary == first.summary and filled.key_sentence == first.key_sentence
    assert issues.load(path).items[1:] == issues.parse(bare).items[1:]


def test_an_edit_saved_while_the_model_works_is_kept(run_cli, newsroom: Newsroom) -> None:
    assert redraft(run_cli, newsroom).code == 0
    settings = yaml.safe_load(newsroom.config.read_text())
    settings["sections"][0]["max_items"] = 4
    newsroom.config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", NEW_POST)
    assert digest(run_cli, newsroom, "fetch", "--source", "google-research").code == 0
    config = load_config(newsroom.config)

    class EditorTypesMeanwhile(ExtractiveSummarizer):
        def summarize(self, items: list[Item]) -> list[Brief]:
            review.note(config, None, 1, "모델이 도는 동안 쓴 한마디")
            return super().summarize(items)

    with Store(config.state_path) as store:
        result = make_draft(config, store, date(2026, 4, 30), EditorTypesMeanwhile())
    assert result.added == 1
    after = issues.load(newsroom.issue(1))
    assert after.items[0].note == "모델이 도는 동안 쓴 한마디"
    google = after.section("google")
    assert google is not None and google.items[-1].new
