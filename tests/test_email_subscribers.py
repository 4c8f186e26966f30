"""The subscriber CSV as Korean users save it: the encodings Excel writes (CP949, UTF-16, a BOM),
errors by physical line, and no command that reads it ever prints a traceback."""

from __future__ import annotations

import codecs
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Newsroom, smtp_server
from test_newsletter import Inbox

from digest import newsletter
from digest.config import Config
from digest.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures" / "email"
FIELD_12 = FIXTURES / "field-12-subscribers-csv-cp949"
CASE_15 = FIXTURES / "security-15-subscriber-csv-wrong-line-numbers"
NAMES = {"reader@example.org": "김독자", "researcher@example.org": "박연구원"}


def config_for(folder: Path, name: str = "subscribers.csv") -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "s", "title": "S", "sources": [{"id": "a", "type": "rss", "url": "x"}]}
            ],
            "email": {"from": "nb@example.org", "subscribers": name},
            "base_dir": folder,
        }
    )


def load_bytes(tmp_path: Path, data: bytes) -> list[newsletter.Subscriber]:
    (tmp_path / "subscribers.csv").write_bytes(data)
    return newsletter.load_subscribers(config_for(tmp_path))


def error_of(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(ConfigError) as error:
        load_bytes(tmp_path, data)
    return str(error.value)


# the field case: Excel on Korean Windows ------------------------------------------------------
@pytest.mark.parametrize("file", ["subscribers.csv", "subscribers-utf16.csv"])
def test_excel_csv_in_cp949_and_unicode_text_in_utf16_are_read(file: str) -> None:
    subscribers = newsletter.load_subscribers(config_for(FIELD_12, file))
    assert {s.email: s.name for s in subscribers} == NAMES  # former@ is unsubscribed


SHEET = [
    ["email", "name", "status"],
    ["reader@example.org", "김독자", ""],
    ["researcher@example.org", "박연구원", ""],
    ["former@example.org", "이전구독자", "unsubscribed"],
]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter", "newline"),
    [
        ("utf-8", b"", ",", "\n"),
        ("utf-8", codecs.BOM_UTF8, ",", "\r\n"),  # Excel's "CSV UTF-8"
        ("cp949", b"", ",", "\r\n"),  # Excel's "CSV" on Korean Windows
        ("euc-kr", b"", ",", "\r\n"),  # CP949 is its superset
        ("utf-16-le", codecs.BOM_UTF16_LE, "\t", "\r\n"),  # Excel's "유니코드 텍스트" (tabs)
        ("utf-16-le", codecs.BOM_UTF16_LE, ",", "\r\n"),
        ("utf-16-be", codecs.BOM_UTF16_BE, ",", "\n"),
    ],
)
def test_every_encoding_a_korean_spreadsheet_writes(
    tmp_path: Path, encoding: str, bom: bytes, delimiter: str, newline: str
) -> None:
    text = "".join(delimiter.join(row) + newline for row in SHEET)
    subscribers = load_bytes(tmp_path, bom + text.encode(encoding))
    assert {s.email: s.name for s in subscribers} == NAMES


@pytest.mark.parametrize(
    "data",
    [
        "email,name\nreader@example.org,caf\xe9\n".encode("latin-1"),  # neither UTF-8 nor CP949
        b"email,name\nreader@example.org,\xff\xfe\xfd\n",
        "email,name\n".encode("utf-16-le"),  # UTF-16 saved without its byte-order mark
    ],
)
def test_an_encoding_it_cannot_read_is_refused_naming_the_file_and_the_fix(
    tmp_path: Path, data: bytes
) -> None:
    message = error_of(tmp_path, data)
    assert f"{tmp_path / 'subscribers.csv'}:" in message
    assert 'save it from the spreadsheet as "CSV UTF-8' in message


def test_the_refusal_names_the_line_of_the_first_unreadable_byte(tmp_path: Path) -> None:
    message = error_of(tmp_path, b"email,name\nok@example.org,\n\nbad@example.org,\xff\n")
    assert "subscribers.csv:4: not UTF-8 or CP949 text (byte 0xff)" in message


def test_a_directory_or_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "subscribers.csv").mkdir()
    with pytest.raises(ConfigError, match="subscribers file not found"):
        newsletter.load_subscribers(config_for(tmp_path))


def test_a_file_that_cannot_be_read_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "subscribers.csv").write_text("email\na@example.org\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(
        ConfigError, match=r"subscribers\.csv: cannot read it \(Permission denied\)"
    ):
        newsletter.load_subscribers(config_for(tmp_path))


def test_broken_quoting_is_a_clear_error(tmp_path: Path) -> None:
    big = "x" * (200 * 1024)  # over the csv module's field limit
    message = error_of(tmp_path, f'email,name\nok@example.org,"{big}"\n'.encode())
    assert "subscribers.csv:2:" in message and "check the quotes there" in message


def test_korean_column_names(tmp_path: Path) -> None:
    data = "이메일,이름,상태\nreader@example.org,김독자,\ngone@example.org,,unsubscribed\n"
    assert load_bytes(tmp_path, data.encode("cp949")) == [
        newsletter.Subscriber("reader@example.org", "김독자")
    ]


def test_names_are_one_line_nfc_text(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "김독자")  # as macOS writes it
    data = f'email,name\nreader@example.org,"{nfd}\u2028\x07 님"\n'
    assert load_bytes(tmp_path, data.encode()) == [
        newsletter.Subscriber("reader@example.org", "김독자 님")
    ]


# line numbers ----------------------------------------------------------------------------------
def test_errors_name_the_physical_line_after_multi_line_names() -> None:
    with pytest.raises(ConfigError) as error:
        newsletter.load_subscribers(config_for(CASE_15))
    message = str(error.value)
    assert f"{CASE_15 / 'subscribers.csv'}:7: 'not-an-address' is not an email address" in message
    assert ":4:" not in message


def test_line_numbers_count_blank_lines_crlf_and_quoted_line_breaks(tmp_path: Path) -> None:
    data = (
        "email,name,status\r\n"
        "\r\n"  # 2: blank
        'ok@example.org,"two\r\nlines",\r\n'  # 3-4
        "bad1,,\r\n"  # 5
        '"x@example.org","a\nb\nc",maybe\r\n'  # 6-8: the record starts on 6
        "\r\n"
        "bad2,,\r\n"  # 10
    )
    message = error_of(tmp_path, data.encode())
    assert [line.split(":")[1] for line in message.splitlines()] == ["5", "6", "10"]


def test_the_status_hint_lists_real_statuses(tmp_path: Path) -> None:
    message = error_of(tmp_path, b"email,status\na@example.org,maybe\n")
    assert "use one of: active, bounced, complained, confirmed, inactive, subscribed, " in message
    assert "one of: ," not in message  # the empty status is not listed as a word


# the commands that read it ---------------------------------------------------------------------
@pytest.fixture
def field_case(run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The field case's folder, its issue published with the clock of its run.sh."""
    folder = tmp_path / "case"
    shutil.copytree(FIELD_12, folder)
    monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
    monkeypatch.chdir(folder)
    result = run_cli("-q", "daily", "--no-send")
    assert result.code == 0, result.err
    yield folder


@pytest.mark.parametrize("csv_file", ["subscribers.csv", "subscribers-utf16.csv"])
def test_field_case_send_dry_run_reads_cp949_and_utf16(
    run_cli: Any, field_case: Path, csv_file: str
) -> None:
    (field_case / "subscribers.csv").write_bytes((FIELD_12 / csv_file).read_bytes())
    result = run_cli("send", "--dry-run")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    emls = sorted((field_case / "outbox" / "0001").glob("*.eml"))
    assert [p.name for p in emls] == [
        "0001-reader@example.org.eml",
        "0002-researcher@example.org.eml",
    ]
    assert "=?utf-8?b?6rmA64+F7J6Q?= <reader@example.org>" in emls[0].read_text()  # 김독자


def test_field_case_daily_with_smtp_sends_and_status_counts(
    run_cli: Any, field_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = Inbox()
    with smtp_server(inbox, monkeypatch):
        monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:30:00+09:00")
        result = run_cli("-q", "daily")
    assert "Traceback" not in result.err
    assert sorted(inbox.recipients()) == sorted(NAMES)
    status = run_cli("status")
    assert status.code == 0, status.err
    assert "last sent: 제 0001호 (2026-04-30): 2 of 2 sent" in status.out


def test_an_unreadable_list_stops_send_and_daily_with_exit_2_and_status_still_works(
    run_cli: Any, field_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (field_case / "subscribers.csv").write_bytes(b"email,name\nr@example.org,\xff\xfe\xfd\n")
    dry = run_cli("send", "--dry-run")
    assert dry.code == 2
    assert dry.err.count("\n") == 1 and "Traceback" not in dry.err
    assert "subscribers.csv:2: not UTF-8 or CP949 text" in dry.err
    assert not (field_case / "outbox").exists()  # nothing written
    inbox = Inbox()
    with smtp_server(inbox, monkeypatch):
        monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:30:00+09:00")
        daily = run_cli("-q", "daily")
    assert daily.code != 0 and "Traceback" not in daily.err
    assert "subscribers.csv:2: not UTF-8 or CP949 text" in daily.err
    assert inbox.messages == []
    status = run_cli("status")
    assert status.code == 0 and "Traceback" not in status.err
    assert "last sent: none — " in status.out and "subscribers.csv:2:" in status.out


def test_a_newsroom_list_with_a_bad_row_sends_nothing(
    run_cli: Any, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = yaml.safe_load(newsroom.config.read_text(encoding="utf-8"))
    assert settings["email"]["subscribers"] == "subscribers.csv"
    (newsroom.path / "subscribers.csv").write_text("email\nok@example.org\nnope\n")
    assert run_cli("--config", str(newsroom.config), "daily", "--no-send").code == 0
    result = run_cli("--config", str(newsroom.config), "send", "--dry-run")
    assert result.code == 2
    assert "subscribers.csv:3: 'nope' is not an email address" in result.err
