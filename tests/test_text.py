"""digest.text: shortening on grapheme boundaries and terminal widths (issue 14, kind 6)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.text import (
    ELLIPSIS,
    display_width,
    fit,
    grapheme_count,
    graphemes,
    pad,
    shorten,
)

# Clusters a naive slice cuts: Hangul in conjoining jamo (NFD, as macOS writes it), a letter
# with combining marks, emoji sequences (ZWJ, skin tone, keycap, flag), an astral character
# (a surrogate pair in JavaScript), CR LF.
HARD = [
    unicodedata.normalize("NFD", "한"),
    "e\u0301",
    "a\u0308\u0323",
    "👩\u200d💻",
    "👍🏽",
    "1\ufe0f\u20e3",
    "🇰🇷",
    "𝔸",
    "\r\n",
    "क्षि",
]


def test_cuts_between_syllables_not_inside_them() -> None:
    nfd = unicodedata.normalize("NFD", "정확도를 올리는 데이터 정제")
    short = shorten(nfd, 6)
    assert short.endswith(ELLIPSIS)
    assert unicodedata.normalize("NFC", short) == "정확도를…"  # the space before the cut goes too
    assert grapheme_count(short) <= 6


def test_text_that_fits_is_unchanged() -> None:
    assert shorten("짧은 글", 10) == "짧은 글"
    assert shorten("a" * 10, 10) == "a" * 10
    nfd = unicodedata.normalize("NFD", "한국어")  # 8 code points, 3 graphemes
    assert shorten(nfd, 3) == nfd
    assert fit("한국어", 6) == "한국어"


def test_limit_counts_graphemes_and_includes_the_ellipsis() -> None:
    assert shorten("abcdefghij", 5) == "abcd…"
    assert shorten("👩\u200d💻" * 4, 3) == "👩\u200d💻" * 2 + "…"
    assert shorten("abc", 0) == ""
    assert shorten("abcdef", 2, ellipsis="...") == "ab"  # no room for the ellipsis: none
    assert shorten("abcdef", 4, ellipsis="...") == "a..."


def test_at_word_backs_up_to_a_space_and_drops_separators() -> None:
    text = "제 0001호 뉴랄브리핑: 희소 어텐션 · 보상 모델 증류 · 로봇 학습"
    short = shorten(text, 30, at_word=True)
    assert short == "제 0001호 뉴랄브리핑: 희소 어텐션 · 보상…"
    assert shorten("a · b · c · d", 9, at_word=True) == "a · b…"
    # one long word: no space in the second half of the room, so a plain cut
    assert shorten("초거대언어모델을위한희소어텐션", 6, at_word=True) == "초거대언어…"


def test_display_width_counts_hangul_as_two_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("한국어") == 6
    assert display_width(unicodedata.normalize("NFD", "한국어")) == 6
    assert display_width("e\u0301") == 1
    assert display_width("👩\u200d💻") == 2
    assert display_width("GPU 클러스터") == 4 + 8
    assert display_width("a\tb") == 2  # controls take no cells of their own


def test_fit_never_splits_a_wide_character() -> None:
    assert fit("한국어 텍스트", 7) == "한국어…"
    assert display_width(fit("한국어 텍스트", 7)) == 7
    assert fit("한국어", 4) == "한…"  # 한 (2) + … (1): the next syllable would straddle
    assert fit("한", 1) == ELLIPSIS
    assert fit("abc", 0) == ""


def test_pad_makes_columns_line_up() -> None:
    rows = ["정확도", "accuracy", "유사도 측정법 비교", "e\u0301"]
    cells = [pad(r, 8) for r in rows]
    assert {display_width(c) for c in cells} == {8}
    assert pad("한국", 6, align="right") == "  한국"


clusters = st.lists(
    st.one_of(st.sampled_from(HARD), st.characters(blacklist_categories=("Cs",))), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(parts=clusters, limit=st.integers(min_value=0, max_value=45), at_word=st.booleans())
def test_shorten_is_a_prefix_on_a_cluster_boundary(
    parts: list[str], limit: int, at_word: bool
) -> None:
    text = "".join(parts)
    short = shorten(text, limit, at_word=at_word)
    assert grapheme_count(short) <= max(limit, 0)
    if short == text:
        return
    body = short.removesuffix(ELLIPSIS)
    assert text.startswith(body)
    whole = graphemes(text)
    # the kept part is exactly some whole clusters of the text
    assert any("".join(whole[:k]) == body for k in range(len(whole) + 1))


@settings(max_examples=300, deadline=None)
@given(parts=clusters, columns=st.integers(min_value=0, max_value=45))
def test_fit_stays_within_its_columns(parts: list[str], columns: int) -> None:
    text = "".join(parts)
    shown = fit(text, columns)
    assert display_width(shown) <= columns
    body = shown.removesuffix(ELLIPSIS) if shown != text else shown
    whole = graphemes(text)
    assert any("".join(whole[:k]) == body for k in range(len(whole) + 1))


@pytest.mark.parametrize("cluster", HARD)
def test_hard_clusters_are_one_grapheme(cluster: str) -> None:
    assert grapheme_count(cluster) == 1
    expected = "" if cluster.isspace() else cluster * 2  # spaces before a cut are dropped
    assert shorten(cluster * 5, 3) == expected + ELLIPSIS
