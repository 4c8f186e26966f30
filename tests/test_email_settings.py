"""Email settings are checked when feeds.yaml is loaded and every header is written by the rules:
Korean display names as RFC 2047 words, IDN domains in punycode, URLs %-encoded, nothing that
could end a header line. Also the defaults that must work (no one-click unsubscribe at a static
page) and .eml names whatever the address."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from conftest import smtp_server
from hypothesis import given, settings
from hypothesis import strategies as st
from test_email_message import READER, make_config, parts, thirty_item_issue
from test_newsletter import Inbox

from digest import newsletter
from digest.config import load_config
from digest.encoding import check_address, header_url, parse_mailbox
from digest.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures" / "email"
IDN = "뉴랄.한국".encode("idna").decode()  # xn--…


def headers_of(raw: bytes) -> list[bytes]:
    return raw.split(b"\n\n", 1)[0].split(b"\n")


def assert_headers_are_ascii_lines(raw: bytes) -> None:
    for line in headers_of(raw):
        line.decode("ascii")  # RFC 5322: headers are ASCII (RFC 2047 words carry the rest)
        assert b"\r" not in line.rstrip(b"\r")


# loading: refused with file, line, key and fix, or encoded ---------------------------------
FEEDS = """title: 뉴랄브리핑
sections:
  - id: blogs
    title: 블로그
    sources:
      - {id: b1, type: rss, url: feed.xml}
email:
"""


def load_with(tmp_path: Path, **email: str) -> Any:
    """feeds.yaml with these `email:` settings (from and subscribers by default), loaded."""
    email = {"from": "nb@example.org", "subscribers": "subscribers.csv", **email}
    text = FEEDS + "".join(f"  {key}: {value}\n" for key, value in email.items())
    (tmp_path / "feeds.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "feeds.yaml")


def refusal(tmp_path: Path, **email: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_with(tmp_path, **email)
    return str(error.value)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("reply_to", "편집@뉴랄.한국", "the part before @ ('편집') is not a valid mailbox name"),
        ("reply_to", '"a@example.org\\r\\nBcc: evil@attacker.example"', "line break"),
        ("reply_to", '"a@example.org\\u2028"', "line break"),
        ("from", '"nb@example.org\\nBcc: evil@attacker.example"', "line break"),
        ("from", '"뉴랄 <nb@example.org>\\u0085"', "line break"),
        ("from", "뉴랄브리핑", "it needs one @"),
        ("unsubscribe_url", '"javascript:alert(1)//{email}"', "not an http:// or https:// URL"),
        ("unsubscribe_url", '"mailto:u@example.org"', "not an http:// or https:// URL"),
        ("unsubscribe_url", '"https://user:pw@example.org/u"', "user name or password"),
        ("unsubscribe_url", '"https://example.org:99999/u"', "not a valid host"),
        ("unsubscribe_url", '"https://example.org/u?e={email}\\r\\nX: y"', "line break"),
    ],
)
def test_a_setting_that_cannot_go_into_a_header_is_refused_at_load(
    tmp_path: Path, key: str, value: str, problem: str
) -> None:
    message = refusal(tmp_path, **{key: value})
    written = (tmp_path / "feeds.yaml").read_text(encoding="utf-8").splitlines()
    line = written.index(f"  {key}: {value}") + 1
    assert message.startswith(f"{tmp_path / 'feeds.yaml'}:{line}: email.{key}: ")
    assert problem in message and " — " in message  # the problem, then the fix
    assert "\n" not in message


@pytest.mark.parametrize("title", ['"뉴랄\\r\\nBcc: evil@attacker.example"', '"뉴랄\\u2028브리핑"'])
def test_a_title_with_a_line_break_is_refused_at_load(tmp_path: Path, title: str) -> None:
    text = FEEDS.replace("뉴랄브리핑", title) + "  from: nb@example.org\n"
    (tmp_path / "feeds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "feeds.yaml")
    assert str(error.value) == (
        f"{tmp_path / 'feeds.yaml'}:1: title: it has a line break or a control character — "
        "write the name on one line"
    )


def test_korean_settings_are_stored_encoded(tmp_path: Path) -> None:
    config = load_with(
        tmp_path,
        reply_to="편집부 <editor@뉴랄.한국>",
        unsubscribe_url='"https://뉴랄.한국/구독 해지?e={email}&t=\\"<a>\\"&p=50%&q=%EA%B5%AC"',
    )
    assert config.email.reply_to == f"편집부 <editor@{IDN}>"
    assert config.email.unsubscribe_url == (
        f"https://{IDN}/%EA%B5%AC%EB%8F%85%20%ED%95%B4%EC%A7%80?e={{email}}"
        "&t=%22%3Ca%3E%22&p=50%25&q=%EA%B5%AC"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nb@example.org", ("", "nb@example.org")),
        ("뉴랄브리핑 <briefing@example.org>", ("뉴랄브리핑", "briefing@example.org")),
        ('"뉴랄 브리핑" <Briefing@뉴랄.한국>', ("뉴랄 브리핑", f"Briefing@{IDN}")),
        ("  <nb@example.org>  ", ("", "nb@example.org")),
        ("A <b> <nb@example.org>", ("A <b>", "nb@example.org")),
    ],
)
def test_parse_mailbox(text: str, expected: tuple[str, str]) -> None:
    assert parse_mailbox(text) == expected


def test_header_url_keeps_what_is_already_right() -> None:
    url = "https://lists.example.org:8443/u/?list=nb&e={email}#top"
    assert header_url(url) == url
    assert header_url("HTTP://Example.ORG") == "http://example.org"
    assert header_url("https://[::1]:8080/u") == "https://[::1]:8080/u"
    assert check_address("a@뉴랄.한국") == f"a@{IDN}"


# the message: every header ASCII and one line ------------------------------------------------
def test_a_korean_display_name_in_from_and_idn_everywhere(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        **{"from": "뉴랄브리핑 <briefing@뉴랄.한국>"},
        reply_to="편집 <editor@뉴랄.한국>",
        unsubscribe_url="https://뉴랄.한국/구독해지?e={email}",
    )
    reader = newsletter.Subscriber(f"reader@{IDN}", "독자")
    raw = newsletter.build_message(config, thirty_item_issue(items=2), reader).as_bytes()
    assert_headers_are_ascii_lines(raw)
    parsed = message_from_bytes(raw, policy=default_policy)
    assert str(parsed["From"]) == f"뉴랄브리핑 <briefing@{IDN}>"
    assert str(parsed["Reply-To"]) == f"편집 <editor@{IDN}>"
    assert parsed["Message-ID"].endswith(f"@{IDN}>")
    assert re.findall(r"<([^>]+)>", str(parsed["List-Unsubscribe"])) == [
        f"mailto:editor@{IDN}?subject=unsubscribe%20reader%40{IDN}",
        f"https://{IDN}/%EA%B5%AC%EB%8F%85%ED%95%B4%EC%A7%80?e=reader%40{IDN}",
    ]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(newsletter.build_message(config, thirty_item_issue(items=2), reader))
    assert f"https://{IDN}/%EA%B5%AC%EB%8F%85%ED%95%B4%EC%A7%80?e=reader%40{IDN}" in text
    assert f'href="https://{IDN}/%EA%B5%AC%EB%8F%85%ED%95%B4%EC%A7%80?e=reader%40{IDN}"' in html


def test_without_a_display_name_from_carries_the_title(tmp_path: Path) -> None:
    message = newsletter.build_message(make_config(tmp_path), thirty_item_issue(items=1), READER)
    assert str(message["From"]) == "뉴랄브리핑 <nb@example.org>"
    assert message["Reply-To"] is None


NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"<>\\'),
    min_size=1,
    max_size=40,
).filter(lambda name: name.strip() == name and name)


@settings(max_examples=40, deadline=None)
@given(name=NAMES, title=NAMES)
def test_any_display_name_and_title_give_ascii_one_line_headers(name: str, title: str) -> None:
    config = make_config(Path("."), **{"from": f"{name} <nb@example.org>"})
    config = config.model_copy(update={"title": title})
    raw = newsletter.build_message(config, thirty_item_issue(items=1), READER).as_bytes()
    assert_headers_are_ascii_lines(raw)
    # Decoded as RFC 2047 says (adjacent encoded words join without a space; CPython's address
    # parser adds one between them, so it cannot be the judge of a long name).
    unfolded = re.sub(rb"\r?\n[ \t]", b" ", raw.split(b"\n\n", 1)[0]).decode("ascii")
    value = re.search(r"^From: (.*)$", unfolded, re.M)[1]  # type: ignore[index]
    shown = str(make_header(decode_header(value))).removesuffix(" <nb@example.org>")
    assert shown.strip('"').split() == name.split()  # unfolding may join runs of spaces
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed["Subject"] == f"[{title}] 제 0042호 (2026-11-23)"


# the security cases through the command --------------------------------------------------------
@pytest.fixture
def case(run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A security case's folder with its issue published (the clock of its common.sh)."""

    def make(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(FIXTURES / name, folder)
        (folder / "issues").mkdir()
        monkeypatch.chdir(folder)
        monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
        result = run_cli("daily", "--no-send")
        assert result.code == 0, result.err
        return folder

    yield make


CASE_11_EDITS = [  # (label, old, new) in the case's feeds.yaml, as its run.sh edits it
    ("IDN reply_to", "subscribers.csv}", "subscribers.csv, reply_to: 편집@뉴랄.한국}"),
    ("title CR/LF", "title: 뉴랄브리핑", 'title: "뉴랄\\r\\nBcc: evil@attacker.example"'),
    ("title U+2028", "title: 뉴랄브리핑", 'title: "뉴랄\\u2028브리핑"'),
    (
        "javascript:",
        "subscribers.csv}",
        'subscribers.csv, unsubscribe_url: "javascript:alert(1)//{email}"}',
    ),
]


@pytest.mark.parametrize(("label", "old", "new"), CASE_11_EDITS, ids=[e[0] for e in CASE_11_EDITS])
def test_case_11_unsafe_settings_stop_send_at_load_with_one_line(
    run_cli: Any, case: Any, label: str, old: str, new: str
) -> None:
    folder = case("security-11-email-settings-crash-send")
    feeds = folder / "feeds.yaml"
    feeds.write_text(feeds.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = run_cli("send", "--dry-run")
    assert result.code == 2, result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1
    assert re.match(rf"error: {re.escape(str(feeds))}:\d+: (email\.\w+|title): .+ — ", result.err)
    assert not (folder / "outbox").exists()


def test_case_11_a_korean_path_and_a_quote_in_unsubscribe_url_are_encoded(
    run_cli: Any, case: Any
) -> None:
    folder = case("security-11-email-settings-crash-send")
    feeds = folder / "feeds.yaml"
    url = 'unsubscribe_url: "https://news.example.org/구독해지?e={email}&x=>"'
    feeds.write_text(
        feeds.read_text(encoding="utf-8").replace("subscribers.csv}", f"subscribers.csv, {url}}}"),
        encoding="utf-8",
    )
    result = run_cli("send", "--dry-run")
    assert result.code == 0, result.err
    raw = (folder / "outbox" / "0001" / "0001-reader@example.org.eml").read_bytes()
    assert_headers_are_ascii_lines(raw)
    assert (
        b" <https://news.example.org/%EA%B5%AC%EB%8F%85%ED%95%B4%EC%A7%80"
        b"?e=reader%40example.org&x=%3E>" in raw
    )


def test_case_12_a_254_character_address_gets_a_bounded_stable_eml_name(
    run_cli: Any, case: Any
) -> None:
    folder = case("security-12-long-address-dry-run-crash")
    result = run_cli("send", "--dry-run")
    assert result.code == 0, result.err
    (eml,) = (folder / "outbox" / "0001").glob("*.eml")
    address = (folder / "subscribers.csv").read_text().splitlines()[1].split(",")[0]
    assert len(address) > 232  # where the old name, with atomic_write's temporary one, broke
    assert eml.name == newsletter.eml_name(1, address) and len(eml.name) <= 100
    parsed = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert parsed["To"].addresses[0].addr_spec == address


def test_the_longest_valid_address_is_written_by_the_dry_run(tmp_path: Path) -> None:
    address = newsletter.check_address(
        "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".org"
    )
    assert len(address) == newsletter.subscribers.MAX_ADDRESS == 254
    subscriber = newsletter.Subscriber(address)
    report = newsletter.write_eml(
        make_config(tmp_path), thirty_item_issue(items=1), tmp_path / "out", [subscriber]
    )
    assert report.written[0].name == newsletter.eml_name(1, address)
    assert report.written[0].is_file()


def test_eml_names_stay_short_unique_and_readable() -> None:
    prefix = "a" * 100
    one = newsletter.eml_name(1, f"{prefix}x@example.org")
    two = newsletter.eml_name(1, f"{prefix}y@example.org")
    assert one != two and len(one) == len(two) <= 100
    assert one == newsletter.eml_name(1, f"{prefix}x@example.org")  # stable
    assert newsletter.eml_name(7, "reader@example.org") == "0007-reader@example.org.eml"
    assert newsletter.eml_name(12345, "r+tag@example.org") == "12345-r_tag@example.org.eml"


def test_case_14_no_one_click_unsubscribe_at_a_static_site(run_cli: Any, case: Any) -> None:
    folder = case("security-14-default-one-click-unsubscribe-to-static-site")
    assert run_cli("send", "--dry-run").code == 0
    raw = (folder / "outbox" / "0001" / "0001-reader@example.org.eml").read_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    mailto = "mailto:newsletter@example.com?subject=unsubscribe%20reader%40example.org"
    assert str(parsed["List-Unsubscribe"]) == f"<{mailto}>"
    assert parsed["List-Unsubscribe-Post"] is None
    text, html = parts(parsed)  # type: ignore[arg-type]
    assert "news.example.org/unsubscribe" not in text + html
    assert f'href="{mailto}"' in html


@pytest.mark.parametrize(
    ("url", "one_click"),
    [("https://lists.example.org/u?e={email}", True), ("http://lists.example.org/u", False)],
)
def test_one_click_only_for_an_https_service_the_operator_set(
    tmp_path: Path, url: str, one_click: bool
) -> None:
    config = make_config(tmp_path, unsubscribe_url=url)
    message = newsletter.build_message(config, thirty_item_issue(items=1), READER)
    assert (message["List-Unsubscribe-Post"] is not None) is one_click


def test_the_envelope_sender_is_the_address_alone(
    run_cli: Any, case: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = case("security-14-default-one-click-unsubscribe-to-static-site")
    feeds = folder / "feeds.yaml"
    feeds.write_text(
        feeds.read_text(encoding="utf-8").replace(
            "from: newsletter@example.com", 'from: "뉴랄브리핑 <briefing@뉴랄.한국>"'
        ),
        encoding="utf-8",
    )
    envelopes: list[str] = []

    class Recorder(Inbox):
        async def handle_MAIL(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            envelopes.append(address)
            envelope.mail_from = address
            return "250 OK"

    inbox = Recorder()
    with smtp_server(inbox, monkeypatch):
        result = run_cli("send")
    assert result.code == 0, result.err
    assert envelopes == [f"briefing@{IDN}"]
    assert str(inbox.messages[0]["From"]) == f"뉴랄브리핑 <briefing@{IDN}>"


@pytest.mark.parametrize(
    "title",
    [
        "주간 소식 딥러닝 연구 브리핑",
        "아자차 소식 브리핑 뉴스 소식",
        "0000\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0𐀀𐀀𐀀𐀀",
    ],
)
def test_the_space_between_encoded_words_is_kept(tmp_path: Path, title: str) -> None:
    """Titles whose Subject the standard library folded with the space outside the words."""
    config = make_config(tmp_path).model_copy(update={"title": title})
    raw = newsletter.build_message(config, thirty_item_issue(items=1), READER).as_bytes()
    unfolded = re.sub(rb"\r?\n[ \t]", b" ", raw.split(b"\n\n", 1)[0]).decode("ascii")
    value = re.search(r"^Subject: (.*)$", unfolded, re.M)[1]  # type: ignore[index]
    assert str(make_header(decode_header(value))) == f"[{title}] 제 0042호 (2026-11-23)"
