"""`digest review keywords` suggests what an editor would pick (issue 15, point 11): curated
glossary terms under their Korean names, never an arXiv category code, never a term the issue
has under another name; and the editor takes them by the numbers the last listing showed."""

from __future__ import annotations

import re

import pytest
from conftest import CliResult

from digest import issue as issues
from digest.desk.suggest import ARXIV_CATEGORY, suggest_keywords

DAY = "2026-04-30"
ROW = re.compile(r"^\s+(\d+)\. (.+?)(?: \((.+)\))? · (\d+) items?$")


def suggestions(result: CliResult) -> list[tuple[str, str]]:
    """(word, English term) of each numbered suggestion, in order, from `keywords` output."""
    assert result.code == 0, result.err
    rows = [ROW.match(line) for line in result.out.splitlines()]
    found = [m for m in rows if m]
    assert [int(m[1]) for m in found] == list(range(1, len(found) + 1))
    return [(m[2], m[3] or "") for m in found]


def rewrite(desk, **texts: str) -> None:
    """Give the draft's first items the (title, summary) texts given as t1=…, s1=…"""
    path = desk.room.issue(1)
    draft = issues.load(path)
    for n, item in enumerate(draft.items, 1):
        item.title = texts.get(f"t{n}", item.title)
        item.summary = texts.get(f"s{n}", item.summary)
        item.key_sentence = texts.get(f"k{n}", item.key_sentence)
    path.write_text(issues.to_markdown(draft), encoding="utf-8")


def test_suggestions_are_korean_glossary_names_and_no_arxiv_codes(desk) -> None:
    rewrite(
        desk,
        t1="Reinforcement learning for robot control",
        s1="A new reinforcement learning method (cs.LG, cs.RO) for robot arms.",
        t2="Scaling laws of pre-training",
        s2="We study pretraining and RL fine-tuning; see cs.LG and stat.ML.",
        k2="Pre-trained models scale.",
        s3="We train the model on one GPU in a day.",
    )
    listed = suggestions(desk("review", "keywords"))
    words = [word for word, _ in listed]
    assert ("강화학습", "Reinforcement learning") in listed  # the Korean name, English beside it
    assert ("GPU", "그래픽 처리 장치") in listed  # an acronym stays as Korean text writes it
    assert "사전학습" in words and "미세조정" in words
    assert words.index("강화학습") < words.index("미세조정")  # two items before one
    assert not any(ARXIV_CATEGORY.fullmatch(word) for word in words)
    assert "cs." not in desk("review", "keywords").out
    # A term the issue has under another of its names is not suggested again.
    assert desk("review", "keywords", "add", "reinforcement learning").code == 0
    assert "강화학습" not in [word for word, _ in suggestions(desk("review", "keywords"))]


def test_take_by_number_adds_the_words_shown(desk) -> None:
    rewrite(
        desk,
        t1="Reinforcement learning for robot control",
        t2="Scaling laws of pre-training",
        s3="Fine-tuning a transformer with attention on long sequences.",
    )
    listed = suggestions(desk("review", "keywords"))
    assert len(listed) >= 3
    taken = desk("review", "keywords", "take", "1", "3")
    assert taken.code == 0, taken.err
    assert issues.load(desk.room.issue(1)).keywords == [listed[0][0], listed[2][0]]
    assert f"added: {listed[0][0]}, {listed[2][0]}" in taken.err
    # The list shown after taking is numbered afresh without them, and `take` reads that one.
    after = suggestions(taken)
    left = [s for s in listed if s not in (listed[0], listed[2])]
    assert after[: len(left)] == left
    assert desk("review", "keywords", "take", "1,1").code == 0  # "1,1": once
    assert issues.load(desk.room.issue(1)).keywords == [listed[0][0], listed[2][0], after[0][0]]
    # add WORD and remove WORD work as before, beside take.
    assert desk("review", "keywords", "add", "AutoML").code == 0
    assert desk("review", "keywords", "remove", listed[0][0]).code == 0
    assert issues.load(desk.room.issue(1)).keywords == [listed[2][0], after[0][0], "AutoML"]


def test_a_number_means_the_list_last_shown_even_if_the_draft_changed(desk) -> None:
    rewrite(desk, t1="Reinforcement learning for robot control", t2="Scaling laws of pre-training")
    listed = [word for word, _ in suggestions(desk("review", "keywords"))]
    # A hand edit (or a re-draft) changes the list: its first word is a keyword now, so a
    # listing made now would number every suggestion one less.
    path = desk.room.issue(1)
    draft = issues.load(path)
    draft.keywords = [listed[0]]
    path.write_text(issues.to_markdown(draft), encoding="utf-8")
    assert [s.word for s in suggest_keywords(draft)][:2] == listed[1:3]
    taken = desk("review", "keywords", "take", "2")
    assert taken.code == 0, taken.err
    assert issues.load(path).keywords == [listed[0], listed[1]]  # 2 as shown, not as now


def test_never_shown_numbers_are_the_list_as_it_is_now(desk) -> None:
    rewrite(desk, t1="Reinforcement learning for robot control", t2="Scaling laws of pre-training")
    shown = desk.room.path / ".digest" / "review-shown.json"
    shown.unlink(missing_ok=True)  # a script that never listed anything
    taken = desk("review", "keywords", "take", "1")
    assert taken.code == 0, taken.err
    (word,) = issues.load(desk.room.issue(1)).keywords
    assert ("added: " + word) in taken.err
    # The same draft gives the same list: computed deterministically.
    assert suggestions(desk("review", "keywords")) == suggestions(desk("review", "keywords"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("take",), "needs a NUMBER"),
        (("take", "x"), "'x' is not a suggestion number"),
        (("take", "99"), "no suggestion 99"),
        (("take", "0"), "no suggestion 0"),
        (("1",), "'1' is not one of 'add', 'remove', 'take'"),
    ],
)
def test_take_refuses_what_is_not_a_shown_number(desk, args: tuple[str, ...], message: str) -> None:
    assert desk("review", "keywords").code == 0
    before = desk.room.issue(1).read_text(encoding="utf-8")
    result = desk("review", "keywords", *args)
    assert result.code == 2 and message in result.err, result.err
    assert desk.room.issue(1).read_text(encoding="utf-8") == before  # nothing written
