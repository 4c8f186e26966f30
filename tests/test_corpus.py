"""The bundled brief corpus holds to its own rules, and the checker names what breaks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.summarize.corpus import (
    CorpusError,
    CorpusLine,
    bundled_path,
    check,
    check_files,
    main,
    read,
    source_text,
)


@pytest.mark.parametrize(
    ("name", "style"),
    [
        ("briefs-mixed.jsonl", "mixed"),
        ("briefs-mixed-eval.jsonl", "mixed"),
        ("briefs-ko.jsonl", "korean"),
    ],
)
def test_every_bundled_line_keeps_the_rules(name: str, style: str) -> None:
    assert list(check_files([bundled_path(name)], style)) == []


def test_the_corpus_is_large_broad_and_split() -> None:
    train = read(bundled_path("briefs-mixed.jsonl"))
    held_out = read(bundled_path("briefs-mixed-eval.jsonl"))
    assert len(train) + len(held_out) >= 1000 and len(held_out) >= 100
    assert not {line.id for line in train} & {line.id for line in held_out}
    for lines in (train, held_out):
        assert {line.kind for line in lines} == {"arxiv", "blog", "reddit"}
    assert all(line.origin for line in train + held_out)  # every line says where it came from


def _line(**changes: str) -> CorpusLine:
    fields = {
        "id": "2601.00001",
        "title": "Scaling Sparse Experts to 1.6 Million Runs",
        "source": source_text(
            "We scale sparse mixture-of-experts language models across 1.6 million training "
            "runs and three benchmarks. Quality saturates at a fixed compute budget."
        ),
        "summary": "sparse mixture-of-experts 언어 모델을 1.6 million 번의 학습으로 키우며, 계산 "
        "예산이 고정되면 품질이 어느 지점에서 더 좋아지지 않는지 살핌.",
        "significance": "experts 수를 정할 때 기준이 되는 결과를 세 가지 benchmarks로 보임.",
        **changes,
    }
    return CorpusLine(**fields)  # type: ignore[arg-type]


def test_a_good_line_passes() -> None:
    assert check(_line()) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"summary": "짧음."}, "요약 is 3 characters"),
        (
            {"significance": "experts 수를 정할 때 기준이 되는 결과를 17개 benchmarks로 보임."},
            "number '17'",
        ),
        (
            {
                "significance": "experts를 1.6억 번 돌려 기준이 되는 결과를 세 가지 benchmarks로 보임."
            },
            "converted scale",
        ),
        (
            {
                "significance": "experts 수를 정할 때 기준이 되는 결과를 세 가지 leaderboards로 보임."
            },
            "English 'leaderboards'",
        ),
        (
            {
                "significance": "experts 수를 정할 때 기준이 되는 결과를 세 가지 benchmarks로 보입니다."
            },
            "음슴체",
        ),
        (
            {"significance": "experts 수를 정하는 혁신적인 결과를 세 가지 benchmarks로 보임."},
            "hype word",
        ),
        (
            {
                "significance": "experts 수 $k$를 정할 때 기준이 되는 결과를 세 가지 benchmarks로 보임."
            },
            "LaTeX",
        ),
        ({"source": "  We scale   sparse experts.  "}, "source is not normalized"),
        ({"kind": "tweet"}, "kind 'tweet'"),
    ],
)
def test_each_rule_is_named(changes: dict[str, str], problem: str) -> None:
    found = check(_line(**changes))
    assert any(problem in p for p in found), found


def test_the_checker_names_file_and_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.dumps(_line().to_json(), ensure_ascii=False)
    bad = json.dumps(_line(summary="짧음.").to_json(), ensure_ascii=False)
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(f"{good}\n{bad}\n{good}\n", encoding="utf-8")
    assert main(["check", str(corpus)]) == 1
    out = capsys.readouterr().out
    assert f"{corpus}:2: 2601.00001: 요약 is 3 characters" in out
    assert f"{corpus}:3: id 2601.00001 already at {corpus}:1" in out


def test_a_line_that_is_not_a_brief_is_an_error_naming_its_line(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c.jsonl:1: missing title, source"):
        read(corpus)
    corpus.write_text("not json\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c.jsonl:1: not JSON"):
        read(corpus)
