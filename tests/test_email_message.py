"""The email message itself, built from an `Issue` without a pipeline run: headers, both parts,
inlined CSS, the size budget, images, and the subscribers CSV."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from digest import newsletter
from digest.config import Config
from digest.errors import ConfigError, SendError
from digest.issue import Issue, IssueItem, Section
from digest.models import Item
from digest.store import Store

# A brief as long as a model writes on a busy day: ~1,000 Korean characters an item.
SUMMARY = (
    "이 논문은 대형 언어모델이 긴 문맥을 읽을 때 앞부분의 정보를 잊어버리는 문제를 다룸. "
    "저자들은 주의(attention) 계산을 여러 구간으로 나누고, 구간마다 요약 토큰을 만들어 "
    "다음 구간에 넘기는 방식을 제안함. 10만 토큰짜리 문서에서도 답의 정확도가 떨어지지 않았고, "
    "메모리 사용량은 기존 방식의 3분의 1 수준이었음. 실험은 법률 문서, 소설, 코드 저장소 "
    "세 가지 영역에서 했는데, 특히 코드 저장소에서 함수 정의를 멀리서 찾아오는 과제의 성적이 "
    "크게 좋아졌음. 다만 요약 토큰을 만드는 데 드는 계산이 추가되어 짧은 문서에서는 오히려 "
    "조금 느려진다는 한계도 밝혔음."
)
SIGNIFICANCE = (
    "긴 문맥 처리는 검색 증강 생성(RAG) 없이도 문서 전체를 읽히고 싶은 현장의 오랜 숙제였음. "
    "이 방법은 모델 구조를 크게 바꾸지 않고 기존 모델에 덧붙일 수 있어서, 이미 배포된 "
    "모델들도 곧 이 기법을 쓰게 될 가능성이 큼. 메모리가 줄어든다는 것은 같은 GPU로 더 많은 "
    "사용자를 받을 수 있다는 뜻이기도 함."
)
GLOSSARY = (
    "주의(attention)는 문장을 읽을 때 각 단어가 다른 어떤 단어를 눈여겨봐야 하는지 점수를 "
    "매기는 장치임. 문장이 길어지면 따져야 할 짝이 제곱으로 늘어나서 계산과 메모리가 "
    "급격히 커짐. 그래서 긴 글을 다루는 연구는 대부분 이 계산을 줄이는 요령에 관한 것임."
)
KEY = (
    "We show that segment-level summary tokens let a transformer retain information across "
    "100k-token contexts while using a third of the memory of full attention."
)


def thirty_item_issue(number: int = 42, items: int = 30, long: int = 1) -> Issue:
    """`long` > 1 repeats the brief: a day whose model wrote more than the budget holds."""
    sections = [Section(s, t) for s, t in (("google", "구글 블로그"), ("arxiv", "arXiv"))]
    sections.append(Section("reddit", "레딧"))
    for n in range(items):
        section = sections[0] if n < 5 else sections[1] if n < 25 else sections[2]
        section.items.append(
            IssueItem(
                id=f"arxiv:2611.{n:05d}",
                title=f"Segment summaries for long-context transformers, part {n + 1}",
                url=f"https://arxiv.org/abs/2611.{n:05d}",
                source_id="arxiv-rss",
                key_sentence=KEY,
                summary=" ".join([SUMMARY] * long),
                significance=" ".join([SIGNIFICANCE] * long),
                glossary_note=GLOSSARY,
                note="편집자 한마디: **꼭** 읽어볼 것." if n == 0 else "",
            )
        )
    return Issue(number, date(2026, 11, 23), "뉴랄브리핑", "published", sections, ["긴 문맥"])


# An unsubscribe service's address (the site itself is static and cannot unsubscribe anyone).
UNSUBSCRIBE = "https://example.org/nb/unsubscribe/?email={email}"


def make_config(tmp_path: Path, **email: Any) -> Config:
    site = email.pop("site", {"url": "https://example.org/nb/"})
    email.setdefault("unsubscribe_url", UNSUBSCRIBE)
    return Config.model_validate(
        {
            "title": "뉴랄브리핑",
            "sections": [
                {
                    "id": "arxiv",
                    "title": "arXiv",
                    "sources": [{"id": "a", "type": "rss", "url": "x"}],
                }
            ],
            "site": site,
            "email": {"from": "nb@example.org", **email},
            "base_dir": tmp_path,
        }
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


READER = newsletter.Subscriber("reader@example.org", "독자")


def test_headers(tmp_path: Path) -> None:
    message = newsletter.build_message(make_config(tmp_path), thirty_item_issue(), READER)
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    assert parsed["Subject"] == "[뉴랄브리핑] 제 0042호 (2026-11-23)"
    assert str(parsed["To"]) == "독자 <reader@example.org>"
    assert re.fullmatch(r"<[^@\s]+\.digest\.0042@example\.org>", parsed["Message-ID"])
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_charset() for p in parsed.iter_parts()] == ["utf-8", "utf-8"]
    unsubscribe = re.findall(r"<([^>]+)>", str(parsed["List-Unsubscribe"]))
    assert unsubscribe == [
        "mailto:nb@example.org?subject=unsubscribe%20reader%40example.org",
        "https://example.org/nb/unsubscribe/?email=reader%40example.org",
    ]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_unsubscribe_without_a_site_is_mailto_only_and_no_one_click(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, site={"url": ""}, reply_to="editor@example.org", unsubscribe_url=""
    )
    message = newsletter.build_message(config, thirty_item_issue(items=2), READER)
    assert message["List-Unsubscribe"] == (
        "<mailto:editor@example.org?subject=unsubscribe%20reader%40example.org>"
    )
    assert message["List-Unsubscribe-Post"] is None
    text, html = parts(message)
    assert "웹에서 보기" not in text and "웹에서 보기" not in html


def test_a_long_unsubscribe_url_is_not_mangled_into_encoded_words(tmp_path: Path) -> None:
    config = make_config(tmp_path, unsubscribe_url="https://lists.example.org/u?list=nb&e={email}")
    reader = newsletter.Subscriber("a.very.long.mailbox.name.for.folding@subdomain.example.org")
    raw = newsletter.build_message(config, thirty_item_issue(items=1), reader).as_bytes()
    header = raw.split(b"List-Unsubscribe:", 1)[1].split(b"\nList-Unsubscribe-Post", 1)[0]
    assert b"=?" not in header
    assert (
        b"<https://lists.example.org/u?list=nb&e=a.very.long.mailbox.name.for.folding%40subdomain.example.org>"
        in header
    )


def test_html_part_has_its_css_inlined_and_nothing_a_mail_client_drops(tmp_path: Path) -> None:
    _, html = parts(newsletter.build_message(make_config(tmp_path), thirty_item_issue(), READER))
    # The only <style> left holds the dark-mode query; every rule for rendering is inline.
    # (Outlook's font rule sits in <!--[if mso]>, a comment to every other client.)
    outside_mso = re.sub(r"<!--\[if mso\]>.*?<!\[endif\]-->", "", html, flags=re.S)
    styles = re.findall(r"<style[^>]*>(.*?)</style>", outside_mso, re.S)
    assert len(styles) == 1 and styles[0].strip().startswith("@media (prefers-color-scheme")
    for tag in re.findall(r"<(?:p|h1|h2|div|a|img)\b[^>]*>", outside_mso):
        assert 'style="' in tag, tag
    assert '<div class="wrap" style="' in html and "max-width:600px" in html
    for banned in ("<script", "<svg", "<table", "<link", "javascript:"):
        assert banned not in outside_mso
    assert 'href="https://example.org/nb/issues/0042/"' in html  # the web version
    assert 'href="https://example.org/nb/unsubscribe/?email=reader%40example.org"' in html


def test_plain_text_part_is_written_for_reading(tmp_path: Path) -> None:
    issue = thirty_item_issue(items=2)
    issue.items[
        1
    ].summary = "**굵게** 쓴 말과 `코드`, [논문 링크](https://arxiv.org/abs/1) & 기호 <그대로>."
    text, _ = parts(newsletter.build_message(make_config(tmp_path), issue, READER))
    assert text.startswith("제 0042호 뉴랄브리핑 (2026년 11월 23일 월요일)\n")
    assert "웹에서 보기: https://example.org/nb/issues/0042/" in text
    assert "■ 구글 블로그" in text and "1. Segment summaries" in text
    assert "[요약] 굵게 쓴 말과 코드, 논문 링크 (https://arxiv.org/abs/1) & 기호 <그대로>." in text
    assert "[한마디] 편집자 한마디: 꼭 읽어볼 것." in text
    assert "<p" not in text and "&amp;" not in text and "**" not in text
    assert "\n\n\n\n" not in text  # paragraphs, not gaps
    assert "구독 해지: https://example.org/nb/unsubscribe/?email=reader%40example.org" in text


def test_a_realistic_thirty_item_issue_fits_the_gmail_budget_whole(tmp_path: Path) -> None:
    composer = newsletter.Composer(make_config(tmp_path), thirty_item_issue())
    _, html = parts(composer.message(READER))
    assert composer.short == frozenset() and html.count("[요약]") == 30
    assert len(html.encode("utf-8")) <= 100_000 < 102 * 1000


def test_an_oversized_issue_is_shortened_after_max_full_items(tmp_path: Path) -> None:
    issue = thirty_item_issue(long=3)
    unlimited = newsletter.Composer(make_config(tmp_path, max_html_bytes=10_000_000), issue)
    assert not unlimited.short and unlimited.html_bytes > 102_000  # really over the budget
    composer = newsletter.Composer(make_config(tmp_path, max_full_items=12), issue)
    _, html = parts(composer.message(READER))
    assert len(html.encode("utf-8")) <= 100_000
    assert composer.short == {item.id for item in issue.items[12:]}
    assert html.count("[요약]") == 12
    # A shortened item keeps its title, one line and a link to its place on the web page.
    assert (
        'href="https://example.org/nb/issues/0042/#arxiv-20" style="color:#1a56b8">전체 보기</a>'
        in html
    )
    assert "Segment summaries for long-context transformers, part 30" in html
    assert (
        "이 논문은 대형 언어모델이 긴 문맥을 읽을 때 앞부분의 정보를 잊어버리는 문제를 다룸. <a"
        in html
    )


def test_the_budget_halves_the_full_items_until_it_fits(tmp_path: Path) -> None:
    issue = thirty_item_issue(long=3)
    composer = newsletter.Composer(
        make_config(tmp_path, max_full_items=29, max_html_bytes=60_000), issue
    )
    full = 30 - len(composer.short)
    assert full in (14, 7, 3, 1)  # 29 was too many; then halves until it fits
    assert composer.html_bytes <= 60_000


def test_a_short_issue_is_never_shortened(tmp_path: Path) -> None:
    composer = newsletter.Composer(
        make_config(tmp_path, max_full_items=1), thirty_item_issue(items=5)
    )
    assert composer.short == frozenset()


def test_an_issue_that_cannot_fit_is_a_clear_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_html_bytes=10_000)
    with pytest.raises(SendError, match=r"over email.max_html_bytes \(10,000\)"):
        newsletter.Composer(config, thirty_item_issue())


def test_images_only_where_the_feed_had_one_and_with_alt(tmp_path: Path) -> None:
    issue = thirty_item_issue(items=3)
    issue.items[2].summary = "모델이 쓴 그림 ![몰래](https://evil.example/x.png) 은 나오지 않음."
    config = make_config(tmp_path)
    with Store(tmp_path / ".digest") as store:
        store.add_items(
            [
                _stored(
                    issue.items[0].id,
                    '<p>x</p><img src="https://img.example/fig1.png" alt="Figure 1: routing">',
                ),
                _stored(
                    issue.items[1].id,
                    '<img src="https://feeds.feedburner.com/~r/x/~4/pixel.gif"><img src="https://img.example/b.svg">',
                ),
                _stored(issue.items[2].id, '<p><img src="https://img.example/plain.jpg"></p>'),
            ],
            datetime(2026, 11, 23, tzinfo=UTC),
        )
        images = newsletter.feed_images(store, issue)
    assert images == {
        issue.items[0].id: newsletter.Image("https://img.example/fig1.png", "Figure 1: routing"),
        issue.items[2].id: newsletter.Image("https://img.example/plain.jpg", issue.items[2].title),
    }
    _, html = parts(newsletter.Composer(config, issue, images).message(READER))
    tags = re.findall(r"<img\b[^>]*>", html)
    assert len(tags) == 2 and all(' alt="' in t and "max-width:100%" in t for t in tags)
    assert not any("evil.example" in t for t in tags)  # a brief's Markdown image stays a link


def _stored(item_id: str, body: str) -> Item:
    return Item(item_id, "t", f"https://x/{item_id}", "arxiv-rss", "arxiv", html=body)


# subscribers ---------------------------------------------------------------------------------
def load(tmp_path: Path, csv_text: str) -> list[newsletter.Subscriber]:
    (tmp_path / "subscribers.csv").write_text(csv_text, encoding="utf-8")
    return newsletter.load_subscribers(make_config(tmp_path, subscribers="subscribers.csv"))


def test_subscribers_are_validated_and_filtered(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        "\ufeffEmail,Name,Status\n"
        "a@example.org,가나다,\n"
        "A@Example.org,dup,active\n"
        "gone@example.org,,unsubscribed\n"
        "bounce@example.org,,bounced\n"
        "\n"
        'b@뉴랄.한국,"  두 줄\n이름 ",subscribed\n',
    )
    assert subscribers == [
        newsletter.Subscriber("a@example.org", "가나다"),
        newsletter.Subscriber("b@" + "뉴랄.한국".encode("idna").decode(), "두 줄 이름"),
    ]


def test_every_bad_subscriber_row_is_reported_by_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(
            tmp_path,
            "email,name,status\nok@example.org,,\nnot-an-address,,\na@b,,\nc@example.org,,maybe\n"
            "x..y@example.org,,\n",
        )
    message = str(error.value)
    assert "subscribers.csv:3: 'not-an-address' is not an email address" in message
    assert "subscribers.csv:4: 'a@b'" in message
    assert "subscribers.csv:5: status 'maybe' — use one of:" in message
    assert "subscribers.csv:6: 'x..y@example.org'" in message
    assert "ok@example.org" not in message


def test_a_csv_without_an_email_column_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"subscribers.csv:1: no 'email' column"):
        load(tmp_path, "address,name\na@example.org,x\n")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a+tag@Example.ORG", "a+tag@example.org"),
        (" x@y.co ", "x@y.co"),
        ("a@b", None),
        ("a b@example.org", None),
        ("a@example.123", None),
        ("<a@example.org>", None),
        ("a@-bad-.org", None),
        ("한글@example.org", None),
    ],
)
def test_check_address(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            newsletter.check_address(raw)
    else:
        assert newsletter.check_address(raw) == expected


def test_smtp_settings_come_from_the_environment_and_hide_the_password() -> None:
    settings = newsletter.SmtpSettings.from_env(
        {"DIGEST_SMTP_HOST": "mx", "DIGEST_SMTP_PASSWORD": "hunter2", "DIGEST_SMTP_STARTTLS": "1"}
    )
    assert (settings.port, settings.starttls, settings.ssl) == (25, True, False)
    assert "hunter2" not in repr(settings)
    assert (
        newsletter.SmtpSettings.from_env({"DIGEST_SMTP_HOST": "mx", "DIGEST_SMTP_SSL": "1"}).port
        == 465
    )
    with pytest.raises(ConfigError, match="both set"):
        newsletter.SmtpSettings.from_env(
            {"DIGEST_SMTP_HOST": "mx", "DIGEST_SMTP_SSL": "1", "DIGEST_SMTP_STARTTLS": "1"}
        )
    with pytest.raises(ConfigError, match="DIGEST_SMTP_HOST is not set"):
        newsletter.SmtpSettings.from_env({})
