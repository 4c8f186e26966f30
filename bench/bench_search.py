"""Benchmark: the site's Korean search, recall and precision per query class, before and after.

    .venv/bin/python bench/bench_search.py               # --issues 320 --keep DIR --json
    .venv/bin/pip install kiwipiepy                       # only for the two commands below
    .venv/bin/python bench/bench_search.py nouns         # remake templates/search-nouns.txt
    .venv/bin/python bench/bench_search.py kiwi          # what the analyser costs on this machine

The benchmark writes N issues of generated Korean briefs (ten items each) whose every noun is
known to the generator, builds the site with `build_site`, and runs the site's own
`search.js` over its own index in node, once as it is and once as committed at `--before-rev`
(default HEAD; or any `--before` file), for every query of six classes: bare noun (정확도),
noun + particle (정확도를), compound part (학습 in 강화학습), spacing variant
(언어모델 / 언어 모델), quoted phrase ("보상 모델이"), Korean↔English term (quantization →
양자화). An item is relevant to a Korean word when it holds that noun (alone or in a
compound); to a phrase or a spacing variant when it holds the phrase; to an English term when
it mentions the concept, in either language. Distractors share a stem with a noun but not the
noun (정확히, 유사한, 전문 인력), or hold a phrase's words apart (보상을 주는 모델).

`nouns` asks the Kiwi analyser (kiwipiepy, Apache-2.0; its model is 105 MB) which words that end
in a particle-like syllable are nouns: the standard entries of its lexicon, the noun runs it
finds in the project's Korean text (digest/data/corpus, ../shared/reference), and degree nouns
made of an adjective's root and 도 (유사도, 복잡도) whose root that text uses, each judged in
two sentence frames. The list is data: the build and the browser never load the analyser.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest import issue as issues  # noqa: E402
from digest.config import Config  # noqa: E402
from digest.issue import Issue, IssueItem, Section  # noqa: E402
from digest.site import build_site  # noqa: E402
from digest.site.korean import NOUNS_FILE, PARTICLES  # noqa: E402


# the corpus -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Concept:
    """A noun or noun phrase the generator plants: its Korean spellings (the first is the
    usual one), its English term when the glossary knows it, and the nouns it holds."""

    ko: str
    parts: tuple[str, ...] = ()
    en: str = ""  # the glossary's English term: items may name the concept in English only
    en_queries: tuple[str, ...] = ()
    distractors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (text, the nouns it holds)

    @property
    def dense(self) -> str:
        return self.ko.replace(" ", "")

    @property
    def nouns(self) -> set[str]:
        return {self.dense, *self.parts}


def _c(ko: str, parts: str = "", en: str = "", q: str = "", d: str = "") -> Concept:
    """A concept from short strings: parts and English queries split on ",", distractors on
    ";" (each `text=noun noun`)."""
    ds = []
    for entry in filter(None, d.split(";")):
        text, _, nouns = entry.partition("=")
        ds.append((text.strip(), tuple(nouns.split())))
    return Concept(
        ko, tuple(filter(None, parts.split(","))), en, tuple(filter(None, q.split(","))), tuple(ds)
    )


CONCEPTS = [
    # nouns that end in a particle-like syllable, with words that share their stem
    _c("정확도", d="정확히=;정확한="),
    _c("유사도", d="유사한=;유사하게="),
    _c("복잡도", d="복잡한="),
    _c("신뢰도", d="신뢰할 만한="),
    _c("민감도", d="민감한="),
    _c("정밀도", d="정밀한="),
    _c("중요도", d="중요한="),
    _c("의존도", d="의존하는="),
    _c("선호도", d="선호하는="),
    _c("완성도", d="완성된="),
    _c("만족도", d="만족스러운="),
    _c("난이도"),
    # not in the noun list: only the nouns an index's own text attests protect these
    _c("혼잡도", d="혼잡한="),
    _c("친밀도", d="친밀한="),
    _c("밀집도", d="밀집된="),
    _c("해상도"),
    _c("전문가", d="전문 인력=전문 인력;전문적인=전문"),
    _c("평론가"),
    _c("차이"),
    _c("경로"),
    _c("회로"),
    _c("효과"),
    _c("성과"),
    _c("회의"),
    _c("정의"),
    # glossary terms: an item may say them in English only
    _c("강화학습", "강화,학습", "Reinforcement learning", "reinforcement learning"),
    _c("사전학습", "사전,학습", "Pre-training", "pre-training,pretraining"),
    _c("미세조정", "미세,조정", "Fine-tuning", "fine-tuning"),
    _c("양자화", "", "Quantization", "quantization"),
    _c("임베딩", "", "Embedding", "embedding,embeddings"),
    _c("과적합", "", "Overfitting", "overfitting"),
    _c("지식 증류", "지식,증류", "Knowledge distillation", "knowledge distillation"),
    _c("그래프 신경망", "그래프,신경망", "Graph neural network", "graph neural network,GNN"),
    _c("추천 시스템", "추천,시스템", "Recommendation system", "recommender system"),
    _c("음성 인식", "음성,인식", "Automatic speech recognition", "speech recognition"),
    _c("전문가 혼합", "전문가,혼합", "Mixture of experts", "mixture of experts,MoE"),
    _c("대형 언어모델", "대형,언어모델,언어,모델", "Large language model", "LLM"),
    # phrases of two nouns, with the words apart
    _c("보상 모델", "보상,모델", d="보상을 주는 모델=보상 모델"),
    _c("로봇 팔", "로봇,팔", d="로봇이 쓰는 팔=로봇 팔"),
    _c("데이터 정제", "데이터,정제", d="데이터를 모아 정제=데이터 정제"),
    _c("코사인 유사도", "코사인,유사도"),
    _c("언어 모델", "언어,모델", d="언어와 모델=언어 모델"),
    _c("검증 세트", "검증,세트", d="검증에 쓴 세트=검증 세트"),
]
COMPOUND_PARTS = [
    "학습", "모델", "언어", "신경망", "시스템", "인식", "음성", "증류", "지식", "조정", "그래프",
    "보상", "로봇", "추천", "혼합", "강화", "정제", "세트", "코사인", "검증",
]  # fmt: skip
SPACED = ["강화 학습", "사전 학습", "미세 조정", "언어모델", "대형 언어 모델", "지식증류",
          "그래프신경망", "추천시스템", "음성인식", "보상모델", "로봇팔", "데이터정제",
          "코사인유사도", "검증세트", "전문가혼합"]  # fmt: skip
# Korean sentences around a noun: {a} is the noun, {을} etc. its particle in the right form.
TEMPLATES = [
    "{a}{을} 높이는 방법을 제안함.", "{a}{이} 크게 좋아짐.", "{a}{은} 이번 연구의 핵심임.",
    "{a}{로} 문제를 풂.", "{a}에서 새 기록을 세움.", "{a}의 한계를 짚음.", "{a}도 함께 살펴봄.",
    "{a} 분야의 새 소식임.", "{a}{과} 비용을 함께 따짐.", "{a}에 관한 실험을 늘림.",
]  # fmt: skip
FILLER = [
    "실험은 공개된 과제 세 곳에서 진행됨.", "코드는 곧 공개될 예정임.",
    "저자들은 후속 연구를 예고함.", "비용은 절반으로 줄었음.", "작은 연구실도 따라 할 만함.",
    "실무에 바로 쓰기엔 아직 이름.", "여러 기관이 함께 참여함.",
]  # fmt: skip
PAIRS = {"을": ("을", "를"), "이": ("이", "가"), "은": ("은", "는"), "과": ("과", "와"),
         "로": ("으로", "로")}  # fmt: skip


def _batchim(word: str) -> int:
    """The final consonant of the last syllable (0: none; 8: ㄹ)."""
    last = word[-1]
    return (ord(last) - 0xAC00) % 28 if "가" <= last <= "힣" else 0


def josa(word: str, particle: str) -> str:
    """The particle in the form that follows `word`: 을/를, 이/가, 은/는, 과/와, 으로/로."""
    if particle not in PAIRS:
        return particle
    after_consonant, after_vowel = PAIRS[particle]
    final = _batchim(word)
    if particle == "로":
        return "로" if final in (0, 8) else "으로"
    return after_consonant if final else after_vowel


def sentence(template: str, noun: str) -> str:
    return re.sub(r"\{(을|이|은|과|로)\}", lambda m: josa(noun, m[1]), template).format(a=noun)


@dataclass
class Doc:
    number: int
    anchor: str
    nouns: set[str] = field(default_factory=set)
    concepts: set[str] = field(default_factory=set)


def make_corpus(count: int, seed: int = 7) -> tuple[list[Issue], list[Doc]]:
    """`count` issues of ten items; each item names one or two concepts (an eighth of the
    glossary ones in English only) and, often, a distractor of another concept."""
    rng = random.Random(seed)
    made, docs = [], []
    for number in range(1, count + 1):
        items = []
        for k in range(1, 11):
            doc = Doc(number, f"arxiv-{k}")
            chosen = rng.sample(CONCEPTS, rng.choice((1, 1, 2)))
            korean, english = [], []
            for concept in chosen:
                doc.concepts.add(concept.ko)
                doc.nouns |= concept.nouns
                if concept.en and rng.random() < 0.125:
                    english.append(concept.en_queries[0])
                    continue
                spelling = concept.ko
                if " " in spelling and rng.random() < 0.3:
                    spelling = concept.dense
                korean.append(sentence(rng.choice(TEMPLATES), spelling))
            others = [c for c in CONCEPTS if c.distractors and c.ko not in doc.concepts]
            if rng.random() < 0.5:
                other = rng.choice(others)
                text, nouns = rng.choice(other.distractors)
                doc.nouns |= set(nouns)
                korean.append(f"{text} 사례도 소개함.")
            korean.append(rng.choice(FILLER))
            rng.shuffle(korean)
            title = f"Notes on {' and '.join(english)}" if english else f"Lab notes {number}.{k}"
            items.append(
                IssueItem(
                    id=f"https://example.org/{number}/{k}",
                    title=title,
                    url=f"https://example.org/{number}/{k}",
                    source_id="a",
                    key_sentence="We report accuracy on three public datasets.",
                    summary=" ".join(korean),
                )
            )
            docs.append(doc)
        day = date(2024, 1, 1) + timedelta(days=number - 1)
        made.append(
            Issue(number, day, "뉴랄브리핑", "published", [Section("arxiv", "arXiv", items)])
        )
    return made, docs


# the queries ----------------------------------------------------------------------------------
def make_queries(docs: list[Doc], seed: int = 11) -> dict[str, dict[str, set[str]]]:
    """{class: {query: ids of the relevant items}}."""
    rng = random.Random(seed)

    def holding(noun: str) -> set[str]:
        return {f"{d.number}#{d.anchor}" for d in docs if noun in d.nouns}

    def about(concept: Concept) -> set[str]:
        return {f"{d.number}#{d.anchor}" for d in docs if concept.ko in d.concepts}

    classes: dict[str, dict[str, set[str]]] = {k: {} for k in
        ("bare noun", "noun+particle", "compound part", "spacing variant", "quoted phrase",
         "Korean↔English")}  # fmt: skip
    particles = ["을", "이", "은", "의", "에서", "로", "도", "과", "에서는", "까지", "보다"]
    for concept in CONCEPTS:
        if " " in concept.ko:
            continue
        classes["bare noun"][concept.ko] = holding(concept.ko)
        for particle in rng.sample(particles, 3):
            query = concept.ko + josa(concept.ko, particle)
            classes["noun+particle"][query] = holding(concept.ko)
    for part in COMPOUND_PARTS:
        classes["compound part"][part] = holding(part)
    for query in SPACED:
        classes["spacing variant"][query] = holding(query.replace(" ", ""))
    for concept in CONCEPTS:
        if " " in concept.ko:
            classes["quoted phrase"][f'"{concept.ko}"'] = holding(concept.dense)
            last = concept.ko + josa(concept.ko, rng.choice(["을", "이", "은", "의", "로"]))
            classes["quoted phrase"][f'"{last}"'] = holding(concept.dense)
    for concept in CONCEPTS:
        for query in concept.en_queries:
            classes["Korean↔English"][query] = about(concept)
        if concept.en:
            query = concept.dense + josa(concept.dense, "을")
            classes["Korean↔English"][query] = about(concept)
    return classes


# running search.js ----------------------------------------------------------------------------
HARNESS = r"""
const fs = require("fs"), path = require("path");
const [site, script, queriesFile] = process.argv.slice(2);
global.document = { addEventListener() {} };
global.window = {};
for (const f of fs.readdirSync(site).filter(f => /^search-(index-\d+|lang)\.js$/.test(f)))
  eval(fs.readFileSync(path.join(site, f), "utf8"));
const index = window.DIGEST_SEARCH, ids = [];
index.docs.forEach((d, i) => { ids.push(d[0] + "#" + d[1]); d[0] = i; });
eval(fs.readFileSync(script, "utf8"));
const out = {};
for (const q of JSON.parse(fs.readFileSync(queriesFile, "utf8")))
  out[q] = window.digestSearch(q).map(i => ids[i]);
process.stdout.write(JSON.stringify(out));
"""


def run_search(site: Path, script: Path, queries: list[str], work: Path) -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed to run search.js: apt-get install -y nodejs")
    (work / "harness.js").write_text(HARNESS, encoding="utf-8")
    (work / "queries.json").write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [node, str(work / "harness.js"), str(site), str(script), str(work / "queries.json")],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def score(
    classes: dict[str, dict[str, set[str]]], found: dict[str, list[str]]
) -> dict[str, dict[str, float]]:
    """Micro-averaged recall and precision per class, and the query counts."""
    report = {}
    for name, queries in classes.items():
        hit = got = wanted = 0
        for query, relevant in queries.items():
            results = set(found[query])
            hit += len(results & relevant)
            got += len(results)
            wanted += len(relevant)
        report[name] = {
            "queries": len(queries),
            "recall": hit / max(wanted, 1),
            "precision": hit / max(got, 1),
        }
    return report


def bench(args: argparse.Namespace) -> None:
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
    shutil.rmtree(work / "issues", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    made, docs = make_corpus(args.issues)
    for issue in made:
        issues.save(issue, work / "issues")
    config = Config.model_validate(
        {"sections": [{"id": "arxiv", "title": "arXiv",
                       "sources": [{"id": "a", "type": "rss", "url": "x"}]}],
         "base_dir": work}
    )  # fmt: skip
    started = time.perf_counter()
    build_site(config, full=True)
    build_s = time.perf_counter() - started
    site = config.site_path
    classes = make_queries(docs)
    queries = [q for qs in classes.values() for q in qs]
    before = work / "search-before.js"
    if args.before:
        shutil.copy(args.before, before)
    else:
        old = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{args.before_rev}:templates/static/search.js"],
            capture_output=True,
            text=True,
            check=True,
        )
        before.write_text(old.stdout, encoding="utf-8")
    after = run_search(site, site / "search.js", queries, work)
    runs = {
        "before": score(classes, run_search(site, before, queries, work)),
        "after": score(classes, after),
    }
    if args.misses:
        for name, qs in classes.items():
            for query, relevant in qs.items():
                got = set(after[query])
                if got != relevant:
                    print(f"{name}: {query}: missed {sorted(relevant - got)[:4]} "
                          f"({len(relevant - got)}), extra {sorted(got - relevant)[:4]} "
                          f"({len(got - relevant)})")  # fmt: skip
    index_bytes = sum(p.stat().st_size for p in site.glob("search-index-*.js"))
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, indent=1))
    print(f"{args.issues} issues, {len(docs)} items, {len(queries)} queries; "
          f"build {build_s:.2f} s; index {index_bytes / 1e6:.2f} MB "
          f"(search.js {(site / 'search.js').stat().st_size / 1e3:.0f} kB)")  # fmt: skip
    print("| class | queries | recall before → after | precision before → after |")
    print("| --- | --- | --- | --- |")
    for name in classes:
        b, a = runs["before"][name], runs["after"][name]
        print(f"| {name} | {a['queries']:.0f} | {b['recall']:.3f} → {a['recall']:.3f} | "
              f"{b['precision']:.3f} → {a['precision']:.3f} |")  # fmt: skip
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


# the noun list --------------------------------------------------------------------------------
NOUNISH = {"NNG", "NNP", "NNB", "NR", "XR", "XSN", "XPN", "SL", "SN", "SH"}


def _kiwi():  # type: ignore[no-untyped-def]
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise SystemExit("this needs the analyser: .venv/bin/pip install kiwipiepy") from None
    return Kiwi(num_workers=2)


def korean_text() -> list[str]:
    """The project's Korean prose: the briefs of the training corpus, the glossary's notes and
    the Korean ML writing in ../shared/reference when it is there."""
    texts = []
    for path in sorted((ROOT / "digest/data/corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [str(row.get(k, "")) for k in ("summary", "significance", "glossary_note")]
    texts += (ROOT / "digest/data/glossary.yaml").read_text(encoding="utf-8").splitlines()
    reference = ROOT.parent / "shared/reference"
    for path in sorted(reference.glob("*.txt")) if reference.is_dir() else []:
        texts += path.read_text(encoding="utf-8").splitlines()
    return [t for t in texts if re.search("[가-힣]", t)]


def _ends_in_particle(word: str) -> bool:
    return any(len(word) > len(p) and word.endswith(p) for p in PARTICLES)


def _is_noun(tokens: list, length: int) -> bool:  # type: ignore[type-arg]
    """Whether the analysis reads the first `length` characters as nouns only, ending there."""
    ends = set()
    for token in tokens:
        if token.start >= length:
            break
        if token.tag not in NOUNISH or token.end > length:
            return False
        ends.add(token.end)
    return length in ends


def make_nouns(args: argparse.Namespace) -> None:
    kiwi = _kiwi()
    standard: dict[str, str] = {}
    index = 0
    while True:
        try:
            morpheme = kiwi.morpheme(index)
        except (IndexError, ValueError, RuntimeError):
            break
        index += 1
        # sense 0: the first sense of a standard entry (dialect words come as other senses)
        standard_entry = morpheme.tag in ("NNG", "XR") and morpheme.sense == 0
        if standard_entry and re.fullmatch(r"[가-힣]{1,6}", morpheme.form or ""):
            standard.setdefault(morpheme.form, morpheme.tag)
    texts = korean_text()
    runs: set[str] = set()
    roots: set[str] = set()
    for tokens in kiwi.tokenize(texts):
        run, end = "", -1
        for n, token in enumerate(tokens):
            if token.tag in ("NNG", "NNP", "XR", "XSN") and re.fullmatch("[가-힣]+", token.form):
                run = run + token.form if token.start == end else token.form
                end = token.end
                if _ends_in_particle(run) and len(run) >= 2:
                    runs.add(run)
            else:
                run, end = "", -1
            following = tokens[n + 1] if n + 1 < len(tokens) else None
            if token.tag in ("NNG", "XR") and following is not None and following.tag == "XSA":
                roots.add(token.form)
    base = {w for w in standard if len(w) >= 2 and _ends_in_particle(w)}
    degree = {r + "도" for r in roots if r in standard and len(r) >= 2}
    candidates = sorted(base | degree | runs)

    def frames(word: str) -> list[str]:
        return [f"{word}에 대한 연구", f"{word}{'을' if _batchim(word) else '를'} 보면"]

    analysed = kiwi.tokenize([f for w in candidates for f in frames(w)])
    keep = []
    for word in candidates:
        first, second = next(analysed), next(analysed)
        if word in runs or (_is_noun(first, len(word)) and _is_noun(second, len(word))):
            keep.append(word)
    out = Path(args.out)
    header = (
        "# Korean nouns that end in a particle-like syllable (정확도, 전문가, 차이): the search\n"
        "# never cuts their last syllable as a particle (digest/site/korean.py). Made by\n"
        "# `bench/bench_search.py nouns` with the Kiwi analyser (kiwipiepy "
        f"{_version()}); add your own\n"
        f"# words in a {NOUNS_FILE} in your templates folder. One word a line.\n"
    )
    out.write_text(header + "\n".join(sorted(keep)) + "\n", encoding="utf-8")
    sources = f"{len(base)} lexicon, {len(degree)} degree nouns, {len(runs)} from text"
    print(f"{len(keep)} nouns of {len(candidates)} candidates ({sources}) → {out}")


def _version() -> str:
    from importlib.metadata import version

    return version("kiwipiepy")


def kiwi_cost(args: argparse.Namespace) -> None:
    """The analyser's price: install size, load time, peak memory and words a second."""
    import resource
    from importlib.util import find_spec

    started = time.perf_counter()
    kiwi = _kiwi()
    load = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    words = [w for t in korean_text()[:3000] for w in t.split()][:50_000]
    started = time.perf_counter()
    list(kiwi.tokenize(words))
    rate = len(words) / (time.perf_counter() - started)
    size = 0
    for name in ("kiwipiepy", "kiwipiepy_model"):
        spec = find_spec(name)
        if spec and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations)))
            size += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            size += sum(p.stat().st_size for p in folder.parent.glob(f"_{name}*.so"))
    print(f"kiwipiepy {_version()}: {size / 1e6:.0f} MB installed, load {load:.2f} s, "
          f"peak RSS {rss:.0f} MB, {rate:,.0f} words/s isolated (2 workers)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    nouns = sub.add_parser("nouns", help="remake the noun list with the Kiwi analyser")
    nouns.add_argument("--out", default=str(ROOT / "templates" / NOUNS_FILE))
    sub.add_parser("kiwi", help="measure what the Kiwi analyser costs")
    parser.add_argument("--issues", type=int, default=320)
    parser.add_argument("--keep", help="build in this folder and keep it")
    parser.add_argument("--before", help="the search.js to compare with (default: --before-rev's)")
    parser.add_argument("--before-rev", default="HEAD", help="the revision for --before")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list each query's misses")
    args = parser.parse_args()
    if args.command == "nouns":
        make_nouns(args)
    elif args.command == "kiwi":
        kiwi_cost(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
