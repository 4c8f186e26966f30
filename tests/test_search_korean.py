"""Korean search: particles go, nouns stay (field case 14, issue 14 kind 10), the same rule in
Python (digest/site/korean.py) and in the browser (templates/search.js.j2, run here in node),
glossary names in both languages, grapheme-safe snippets, and the benchmark's corpus at small
size with its per-class floors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from digest import issue as issues
from digest.config import Config
from digest.issue import Issue, IssueItem, Section
from digest.site import build_site
from digest.site.korean import PARTICLES, attested_nouns, load_nouns, normalize, stem
from digest.templates import BUNDLED_TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
CASE = Path(__file__).parent / "fixtures" / "cases" / "14-korean-search-overstemming"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="no node: apt-get install -y nodejs")
NOUNS = load_nouns([BUNDLED_TEMPLATES])


def config_for(folder: Path) -> Config:
    return Config.model_validate(
        {"sections": [{"id": "arxiv", "title": "arXiv", "sources": [{"id": "a", "type": "rss", "url": "x"}]}],
         "base_dir": folder}
    )  # fmt: skip


def build(folder: Path, docs: list[tuple[str, str]]) -> Path:
    for number, (title, summary) in enumerate(docs, 1):
        item = IssueItem(id=f"u{number}", title=title, url=f"https://example.org/{number}",
                         source_id="a", summary=summary)  # fmt: skip
        issues.save(Issue(number, date(2026, 1, number), "뉴랄브리핑", "published",
                          [Section("arxiv", "arXiv", [item])]), folder / "issues")  # fmt: skip
    build_site(config_for(folder))
    return folder / "site"


def node(script: str, *args: str) -> str:
    assert NODE is not None
    done = subprocess.run([NODE, "-e", script, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


# the rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("정확도", "정확도"), ("유사도", "유사도"), ("전문가", "전문가"), ("복잡도", "복잡도"),
        ("신뢰도", "신뢰도"), ("난이도", "난이도"), ("차이", "차이"), ("회의", "회의"),
        ("결과", "결과"), ("경로", "경로"), ("평가", "평가"),
        ("정확도를", "정확도"), ("유사도로", "유사도"), ("전문가가", "전문가"), ("차이가", "차이"),
        ("회로의", "회로"), ("성과도", "성과"), ("강화학습이", "강화학습"), ("모델에서는", "모델"),
        ("언어모델로도", "언어모델"), ("gpu에서", "gpu"), ("llm을", "llm"), ("학습이", "학습"),
        ("팔이", "팔이"), ("gpu", "gpu"), ("", ""),
    ],
)  # fmt: skip
def test_particles_go_and_nouns_stay(word: str, expected: str) -> None:
    assert stem(word, NOUNS) == expected


def test_inside_a_phrase_one_syllable_may_be_left() -> None:
    assert stem("팔이", NOUNS, alone=False) == "팔"
    assert stem("차이", NOUNS, alone=False) == "차이"  # a known noun stays, phrase or not


def test_particles_are_sorted_longest_first_and_the_noun_list_is_clean() -> None:
    assert list(PARTICLES) == sorted(PARTICLES, key=lambda p: (-len(p), p))
    assert {"정확도", "유사도", "전문가", "차이"} <= NOUNS
    assert not {"모델도", "학습도", "성능도", "데이터가"} & NOUNS  # noun + particle: not nouns
    assert all(w == normalize(w) and " " not in w for w in NOUNS)


def test_a_users_noun_list_adds_to_ours(tmp_path: Path) -> None:
    (tmp_path / "search-nouns.txt").write_text("# 우리 팀 용어\n혼잡도  # 없던 말\n모델\n")
    both = load_nouns([tmp_path, BUNDLED_TEMPLATES])
    assert "혼잡도" in both and "정확도" in both
    assert "모델" not in both  # it ends in no particle: listing it changes nothing
    assert stem("혼잡도", both) == "혼잡도" and stem("혼잡도", NOUNS) == "혼잡"


def test_the_index_text_attests_nouns_the_list_lacks() -> None:
    found = attested_nouns(
        ["혼잡도를 줄이고 친밀도가 오름. 모델로는 부족함. 데이터만을 씀. 학습도 빠름."]
    )
    assert {"혼잡도", "친밀도"} <= found
    assert not {"모델로", "데이터만", "학습"} & found


# the browser side, in node --------------------------------------------------------------------
@needs_node
def test_field_case_14_nouns_keep_their_last_syllable(tmp_path: Path) -> None:
    site = build(tmp_path, [
        ("검증 세트 정확도를 올리는 데이터 정제 요령",
         "라벨 오류를 걸러내자 검증 세트 정확도가 3%p 올랐습니다. 코사인 유사도로 중복 샘플도 지웠습니다."),
        ("GPU 클러스터 운영 회고",
         "작업 시작 시각을 정확히 기록하지 않아 장애 원인을 찾기 어려웠습니다. 유사한 장애가 반복되지 않도록 전문 인력을 두었습니다."),
    ])  # fmt: skip
    out = subprocess.run(
        [NODE or "node", str(CASE / "search_check.js"), str(site), "정확도", "유사도", "전문가", "정확도를"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert out.splitlines() == [
        '정확도: 1 hit(s) -> ["검증 세트 정확도를 올리는 데이터 정제 요령"]',
        '유사도: 1 hit(s) -> ["검증 세트 정확도를 올리는 데이터 정제 요령"]',
        "전문가: 0 hit(s) -> []",
        '정확도를: 1 hit(s) -> ["검증 세트 정확도를 올리는 데이터 정제 요령"]',
    ]


LOAD = """
const fs = require("fs"), path = require("path"), site = process.argv[1];
global.document = { addEventListener() {} }; global.window = {};
for (const f of fs.readdirSync(site).filter(f => /^search-index-\\d+\\.js$/.test(f)))
  eval(fs.readFileSync(path.join(site, f), "utf8"));
eval(fs.readFileSync(path.join(site, "search.js"), "utf8"));
"""


@needs_node
def test_python_and_the_browser_cut_the_same_way(tmp_path: Path) -> None:
    site = build(tmp_path, [("t", "혼잡도를 측정함.")])
    words = ["정확도", "정확도를", "유사도로", "전문가", "전문가의", "차이가", "회로의", "성과도",
             "강화학습이", "모델에서는", "gpu에서", "팔이", "혼잡도", "혼잡도가", "학습도", "보상은",
             "데이터만을", "언어모델로도", "시스템과의", "로봇이랑", "추천까지", "한국어"]  # fmt: skip
    script = (
        LOAD
        + "process.stdout.write(JSON.stringify(JSON.parse(process.argv[2]).map(w => window.digestStem(w))));"
    )
    browser = json.loads(node(script, str(site), json.dumps(words, ensure_ascii=False)))
    nouns = NOUNS | {"혼잡도"}  # attested by this index's text
    assert browser == [stem(w, nouns) for w in words]


@needs_node
def test_glossary_names_find_items_in_either_language(tmp_path: Path) -> None:
    site = build(tmp_path, [
        ("Graph neural networks for molecules", "We report accuracy on three datasets."),
        ("휴대폰에서 도는 모델", "양자화로 모델 크기를 4비트까지 줄임. 가중치만 바꿈."),
        ("Students learn from teachers", "교사 모델의 지식증류로 작은 모델을 학습함."),
        ("Water distillation plants", "Fractional distillation of crude oil in a distillation column."),
    ])  # fmt: skip
    script = (
        LOAD
        + "process.stdout.write(JSON.stringify(JSON.parse(process.argv[2]).map(q => window.digestSearch(q))));"
    )
    queries = ["그래프 신경망", "GNN", "quantization", "양자화를", "knowledge distillation", "지식 증류",
               "distillation"]  # fmt: skip
    found = json.loads(node(script, str(site), json.dumps(queries, ensure_ascii=False)))
    # an English name is trusted only where the term base says it has one sense; the oil
    # plant's "distillation" is not 지식 증류
    assert found == [[1], [1], [2], [2], [3], [3], [4, 3]]


@needs_node
def test_snippets_are_cut_between_graphemes(tmp_path: Path) -> None:
    site = build(tmp_path, [("t", "x")])
    import unicodedata

    texts = ["가" * 200, unicodedata.normalize("NFD", "한국어 " * 60), "👩‍💻" * 170, "𝔸" * 170]
    script = (
        LOAD
        + "process.stdout.write(JSON.stringify(JSON.parse(process.argv[2]).map(t => window.digestShorten(t, 160))));"
    )
    cut = json.loads(node(script, str(site), json.dumps(texts)))
    from digest.text import grapheme_count, graphemes, shorten

    for text, short in zip(texts, cut, strict=True):
        assert short.endswith("…") and grapheme_count(short) <= 160
        assert text.startswith(short[:-1])
        kept = graphemes(short[:-1])
        assert "".join(graphemes(text)[: len(kept)]) == short[:-1]  # whole clusters only
        assert short == shorten(text, 160)  # the same cut as digest/text.py


# the benchmark's corpus at small size --------------------------------------------------------
@needs_node
def test_every_query_class_meets_its_floor_on_the_bench_corpus(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_search", ROOT / "bench" / "bench_search.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = bench
    spec.loader.exec_module(bench)
    made, docs = bench.make_corpus(60)
    for issue in made:
        issues.save(issue, tmp_path / "issues")
    build_site(config_for(tmp_path))
    classes = bench.make_queries(docs)
    assert sum(len(q) for q in classes.values()) >= 200
    queries = [q for qs in classes.values() for q in qs]
    found = bench.run_search(tmp_path / "site", tmp_path / "site" / "search.js", queries, tmp_path)
    report = bench.score(classes, found)
    for name, figures in report.items():
        assert figures["recall"] >= 0.90 and figures["precision"] >= 0.95, (name, figures)
