"""feeds.yaml → Config: the shipped files load; every mistake names file, line and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from digest.config import find_config, load_config
from digest.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
title: 뉴랄브리핑
timezone: Asia/Seoul
sections:
  - id: google
    title: 구글 블로그
    sources:
      - id: google-research
        type: rss
        url: https://research.google/blog/rss/
  - id: arxiv
    title: arXiv
    sources:
      - id: arxiv-cs
        type: arxiv
        url: https://export.arxiv.org/api/query
        query: "cat:cs.LG"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(_write(tmp_path, text))
    return str(error.value)


def test_repo_feeds_yaml_loads() -> None:
    config = load_config(ROOT / "feeds.yaml")
    assert config.section_ids == ["google", "aws", "meta", "arxiv", "reddit"]
    assert config.timezone == "Asia/Seoul"
    assert config.base_dir == ROOT
    ids = {source.id: source for _, source in config.sources}
    assert ids["arxiv-cs"].type == "arxiv"
    assert ids["arxiv-cs"].query == "cat:cs.LG OR cat:cs.AI OR cat:cs.CL OR cat:cs.CV"
    assert ids["arxiv-cs"].max_results == 100
    assert ids["reddit-ml"].min_score == 50
    assert config.email.from_ == "newsletter@example.com"


def test_example_feeds_yaml_loads() -> None:
    config = load_config(ROOT / "examples" / "feeds.yaml")
    assert config.base_dir == ROOT / "examples"
    assert config.select.window_days is None
    assert config.auto_publish is True
    (_, google), *_ = config.sources
    assert config.source_url(google) == (
        (ROOT / "examples" / "feeds" / "google-research-blog.xml").as_uri()
    )
    assert config.state_path == ROOT / "examples" / ".digest"
    assert config.site_path == ROOT / "examples" / ".." / "site"


def test_defaults_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD))
    assert config.summarizer.backend == "extractive"
    assert config.select.window_days == 3
    assert config.sections[0].max_items == 5
    assert config.issues_path == tmp_path / "issues"
    assert config.state_path == tmp_path / ".digest"
    assert config.section("arxiv").title == "arXiv"
    with pytest.raises(ConfigError, match="no section 'nope'"):
        config.section("nope")


def test_unknown_key_names_line_key_and_fix(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        GOOD.replace("        query:", "        colour: red\n        query:"),
    )
    assert message.startswith(f"{tmp_path / 'feeds.yaml'}:16: ")
    assert "sections.1.sources.0.colour" in message
    assert "remove it" in message
    assert message.count("\n") == 0  # one problem, one line


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = _error(tmp_path, "tittle: typo\n" + GOOD)
    assert "feeds.yaml:1: tittle:" in message
    assert "remove it" in message


def test_bad_source_type_lists_the_allowed_ones(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("type: rss", "type: atom2"))
    assert "feeds.yaml:8: sections.0.sources.0.type" in message
    assert "use one of: 'rss', 'arxiv' or 'reddit'" in message


def test_missing_sections(tmp_path: Path) -> None:
    message = _error(tmp_path, "title: 뉴랄브리핑\ntimezone: Asia/Seoul\n")
    assert "feeds.yaml:1: sections: Field required" in message
    assert "add sections:" in message


def test_missing_url_names_the_source_line(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("        url: https://research.google/blog/rss/\n", ""))
    assert "feeds.yaml:7: sections.0.sources.0.url: Field required" in message
    assert "add url:" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    broken = GOOD.replace("    title: arXiv", "    title: arXiv: the preprints")
    message = _error(tmp_path, broken)
    assert "feeds.yaml:11: not valid YAML" in message
    assert "fix the syntax" in message


def test_not_a_mapping(tmp_path: Path) -> None:
    assert "feeds.yaml:1: expected a mapping" in _error(tmp_path, "- just\n- a list\n")


def test_unknown_timezone(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("Asia/Seoul", "Mars/Olympus_Mons"))
    assert "feeds.yaml:2: timezone" in message
    assert "unknown timezone 'Mars/Olympus_Mons'" in message
    assert "IANA" in message


def test_duplicate_source_ids(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("id: arxiv-cs", "id: google-research"))
    assert "'source google-research' appears twice" in message
    assert "feeds.yaml:3: sections" in message


def test_bad_id_pattern(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("id: google\n", "id: Google News\n"))
    assert "feeds.yaml:4: sections.0.id" in message
    assert "lower-case letters" in message


def test_env_overrides_summarizer_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, GOOD + "summarizer:\n  backend: extractive\n  model: x\n")
    monkeypatch.setenv("DIGEST_SUMMARIZER_BACKEND", "openai")
    config = load_config(path)
    assert config.summarizer.backend == "openai"
    assert config.summarizer.model == "x"  # the rest of the block stays


def test_env_override_into_an_empty_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SUMMARIZER_BACKEND", "transformers")
    monkeypatch.setenv("DIGEST_AUTO_PUBLISH", "yes")
    config = load_config(_write(tmp_path, GOOD + "summarizer:\n"))
    assert config.summarizer.backend == "transformers"
    assert config.auto_publish is True


def test_bad_env_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SUMMARIZER_BACKEND", "gpt")
    message = _error(tmp_path, GOOD)
    assert message.startswith("DIGEST_SUMMARIZER_BACKEND: summarizer.backend")
    assert "'extractive', 'transformers' or 'openai'" in message
    assert "unset DIGEST_SUMMARIZER_BACKEND" in message


def test_missing_config_path_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "nowhere.yaml")
    assert str(error.value) == (
        f"{tmp_path / 'nowhere.yaml'}: no such file — pass --config PATH or run `digest init`"
    )


def test_find_config_from_env_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, GOOD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ConfigError, match=r"no feeds\.yaml in .* run `digest init` here"):
        find_config(None)
    monkeypatch.setenv("DIGEST_CONFIG", str(path))
    assert find_config(None) == path
    monkeypatch.delenv("DIGEST_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert find_config(None) == tmp_path / "feeds.yaml"


def test_a_bad_subreddit_gets_the_subreddit_fix(tmp_path: Path) -> None:
    text = GOOD + "      - {id: ml, type: reddit, subreddit: r/MachineLearning}\n"
    message = _error(tmp_path, text)
    assert "sections.1.sources.1.subreddit: String should match pattern" in message
    assert "reddit.com/r/NAME" in message and "lower-case" not in message


def test_a_missing_file_named_by_digest_config_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError) as error:
        load_config()
    assert str(error.value) == (
        f"DIGEST_CONFIG={tmp_path / 'gone.yaml'}: no such file — fix or unset DIGEST_CONFIG, "
        "or pass --config PATH"
    )


def test_feeds_yaml_in_utf16_or_with_a_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    for data in (
        b"\xef\xbb\xbf" + GOOD.encode(),  # Notepad's "UTF-8 (BOM)"
        b"\xff\xfe" + GOOD.encode("utf-16-le"),  # Notepad's "Unicode"
    ):
        path.write_bytes(data)
        assert load_config(path).title == "뉴랄브리핑"


def test_feeds_yaml_in_cp949_is_refused_with_the_line_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(GOOD.encode("cp949"))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}:1: not UTF-8 text (byte 0xb4) — save it as UTF-8"


def test_an_unreadable_feeds_yaml_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, GOOD)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError, match=r"feeds\.yaml: cannot read it \(Permission denied\)"):
        load_config(path)


def test_an_invalid_digest_now_is_a_config_error() -> None:
    from digest.config import Secrets

    with pytest.raises(ConfigError) as error:
        Secrets.from_env({"DIGEST_NOW": "tomorrow morning"})
    assert str(error.value) == (
        "DIGEST_NOW='tomorrow morning' is not an ISO 8601 time — use e.g. "
        "2026-11-23T07:00:00+09:00, or unset DIGEST_NOW"
    )
    assert Secrets.from_env({"DIGEST_NOW": " 2026-11-23 "}).now == "2026-11-23"


@pytest.mark.parametrize("title", ['"  "', '"뉴랄\\t브리핑"', '"뉴랄\\x85브리핑"', "x" * 201])
def test_the_title_is_one_line_of_at_most_200_characters(tmp_path: Path, title: str) -> None:
    message = _error(tmp_path, GOOD.replace("title: 뉴랄브리핑", f"title: {title}"))
    assert message.startswith(f"{tmp_path / 'feeds.yaml'}:1: title: ")


def test_the_site_url_is_checked_and_encoded_at_load(tmp_path: Path) -> None:
    """Every page, the feed's ids and xml:base use site.url: a space or Korean in its path is
    %-encoded once, here; another scheme is refused naming the line (field case 11's kind)."""
    spaced = load_config(_write(tmp_path, GOOD + "site:\n  url: https://example.org/ml news/\n"))
    assert spaced.site.url == "https://example.org/ml%20news/"
    korean = load_config(_write(tmp_path, GOOD + "site:\n  url: https://예시.kr/뉴스/\n"))
    assert korean.site.url == "https://xn--vv4b11d.kr/%EB%89%B4%EC%8A%A4/"  # IDNA 2003 punycode
    message = _error(tmp_path, GOOD + "site:\n  url: ftp://example.org/\n")
    assert "feeds.yaml:" in message and "site.url" in message
