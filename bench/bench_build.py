"""Benchmark: `digest build` against Pelican on the same 1,000 issues, in one run.

    .venv/bin/pip install pelican markdown      # benchmark-only; not a project dependency
    .venv/bin/python bench/bench_build.py       # --issues 1000 --skip-pelican --keep DIR

It writes N realistic issues (about 20 items each in five sections, Korean briefs, English key
sentences, 토막상식 notes, five 키워드) into a scratch newsletter folder and the same issues as
Pelican Markdown articles, then times, each as a fresh process the way a user runs it:

1. digest full build (`digest build --full`) and Pelican's full build (no cache);
2. after one new issue: `digest build` (incremental) and Pelican with its content cache;
3. the peak resident memory of each digest process (from wait4's rusage).

Targets (docs/benchmarks.md): full ≤ ⅓ of Pelican's, incremental ≤ ⅓ of Pelican's cached
rebuild, peak ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest import issue as issues  # noqa: E402
from digest.glossary import load_glossary  # noqa: E402
from digest.issue import Issue, IssueItem, Section  # noqa: E402

SECTIONS = [
    ("google", "구글 블로그", 3),
    ("aws", "AWS 머신러닝 블로그", 3),
    ("meta", "페이스북(메타) 리서치", 3),
    ("arxiv", "arXiv", 8),
    ("reddit", "레딧", 3),
]
SUBJECTS = [
    "강화학습", "대형 언어모델", "확산 모델", "트랜스포머", "어텐션", "임베딩", "미세조정",
    "사전학습", "지식 증류", "양자화", "멀티모달 모델", "음성 인식", "기계 번역", "추천 시스템",
    "그래프 신경망", "자기지도학습", "로봇 학습", "검색 증강 생성", "전문가 혼합", "벤치마크",
]  # fmt: skip
VERBS = [
    "학습 속도를 두 배로 높임", "추론 비용을 절반으로 줄임", "적은 데이터로도 성능을 유지함",
    "긴 문맥에서 정확도가 떨어지는 문제를 해결함", "GPU 메모리 사용량을 크게 줄임",
    "사람 평가에서 기존 모델보다 높은 점수를 받음", "작은 모델로 큰 모델의 성능을 따라잡음",
    "환각 현상을 줄이는 새 학습법을 제안함", "공개 벤치마크에서 최고 성능을 기록함",
]  # fmt: skip
WHY = [
    "연구실 밖에서도 바로 쓸 수 있다는 점이 의미 있음.",
    "같은 예산으로 더 큰 실험을 돌릴 수 있게 됨.",
    "데이터가 부족한 한국어 같은 언어에도 도움이 될 수 있음.",
    "모델을 휴대폰 같은 작은 기기에서 돌리는 길이 열림.",
    "평가 방법 자체를 다시 생각하게 만드는 결과임.",
]
EN_WORDS = [
    "scaling", "routing", "diffusion", "transformer", "attention", "sparse", "retrieval",
    "agents", "reasoning", "alignment", "robotics", "speech", "vision", "tokenizer",
    "distillation", "quantization", "benchmark",
]  # fmt: skip
KEYWORD_POOL = [
    *SUBJECTS,
    "LLM", "RLHF", "GPU", "MoE", "RAG", "LoRA", "C++", "A/B 테스트", "PyTorch", "JAX",
    "오픈소스", "데이터셋", "안전성", "에이전트", "코드 생성", "한국어",
]  # fmt: skip


def make_issue(number: int, rng: random.Random) -> Issue:
    day = date(2023, 1, 1) + timedelta(days=number - 1)
    notes = [t.note for t in load_glossary()]
    sections = []
    for sid, title, count in SECTIONS:
        items = []
        for k in range(count + rng.randint(-1, 1)):
            subject = rng.choice(SUBJECTS)
            words = " ".join(rng.sample(EN_WORDS, 4))
            url = f"https://example.org/{sid}/{number}/{k}"
            summary = f"이번 연구는 {subject}에서 {rng.choice(VERBS)}. {rng.choice(VERBS)}."
            if rng.random() < 0.1:
                summary += " 코드는 `github.com/example` 에 **공개**됨."
            items.append(
                IssueItem(
                    id=url,
                    title=f"{words.title()} for {subject} at scale",
                    url=url,
                    source_id=sid,
                    key_sentence=f"We show that {words} improves results by {rng.randint(2, 40)}%.",
                    summary=summary,
                    significance=rng.choice(WHY),
                    glossary_note=rng.choice(notes) if rng.random() < 0.7 else "",
                )
            )
        sections.append(Section(sid, title, items))
    return Issue(
        number,
        day,
        "뉴랄브리핑",
        status="published",
        sections=sections,
        keywords=rng.sample(KEYWORD_POOL, 5),
        published_at=f"{day.isoformat()}T07:00:00+09:00",
    )


def write_newsletter(folder: Path, count: int) -> None:
    (folder / "issues").mkdir(parents=True)
    sections = "\n".join(
        f"  - id: {sid}\n    title: {title}\n    sources:\n"
        f"      - {{id: {sid}-src, type: rss, url: feeds/{sid}.xml}}"
        for sid, title, _ in SECTIONS
    )
    (folder / "feeds.yaml").write_text(
        f"title: 뉴랄브리핑\nsections:\n{sections}\nsite:\n  url: https://example.org/nb/\n",
        encoding="utf-8",
    )
    rng = random.Random(42)
    for number in range(1, count + 1):
        issues.save(make_issue(number, rng), folder / "issues")


def pelican_article(issue: Issue) -> str:
    """The same issue as a Pelican Markdown article: its body without our comment lines."""
    body = issues.to_markdown(issue).split("\n---\n", 1)[1]
    lines = [line for line in body.splitlines() if not line.startswith(("<!--", "# "))]
    meta = [
        f"Title: {issue.title}",
        f"Date: {issue.date.isoformat()} 07:00",
        "Category: 뉴랄브리핑",
        f"Tags: {', '.join(k.replace(',', ' ') for k in issue.keywords)}",
        f"Slug: issue-{issue.number:04d}",
    ]
    return "\n".join(meta) + "\n\n" + "\n".join(lines) + "\n"


PELICAN_CONF = """\
SITENAME = "뉴랄브리핑"
SITEURL = ""
TIMEZONE = "Asia/Seoul"
DEFAULT_LANG = "ko"
DEFAULT_PAGINATION = 10
RELATIVE_URLS = True
FEED_ALL_ATOM = "feeds/all.atom.xml"
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
CHECK_MODIFIED_METHOD = "mtime"
"""


def write_pelican(folder: Path, newsletter: Path, upto: int) -> None:
    (folder / "content").mkdir(parents=True)
    (folder / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")
    for path in sorted((newsletter / "issues").glob("*.md")):
        issue = issues.load(path)
        if issue.number > upto:
            continue
        (folder / "content" / f"{issue.number:04d}.md").write_text(
            pelican_article(issue), encoding="utf-8"
        )


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one process, measured by the kernel's rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def settle(folder: Path) -> None:
    """Wait (at most 60 s) until the retired site a previous build handed to a background
    remover is gone: a daily build starts long after yesterday's removal finished, so timing
    it against a disk still busy with that removal would measure the wrong thing."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        list(folder.glob(".site.old-*")) or list(folder.glob(".removing-*-site.*"))
    ):
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--skip-pelican", action="store_true")
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="digest-bench-"))
    bin_dir = Path(sys.executable).parent
    digest_cmd = [str(bin_dir / "digest"), "-q", "--config", "feeds.yaml", "build"]
    pelican_cmd = [
        str(bin_dir / "pelican"),
        "-q",
        "content",
        "-o",
        "output",
        "-s",
        "pelicanconf.py",
    ]
    results: dict[str, object] = {"issues": args.issues, "load": os.getloadavg()}
    try:
        newsletter, pelican = work / "newsletter", work / "pelican"
        write_newsletter(newsletter, args.issues)
        items = sum(len(issues.load(p).items) for p in (newsletter / "issues").glob("*.md"))
        results["items"] = items
        full, full_rss = timed([*digest_cmd, "--full"], newsletter)
        settle(newsletter)
        same, _ = timed(digest_cmd, newsletter)
        new = make_issue(args.issues + 1, random.Random(7))
        issues.save(new, newsletter / "issues")
        settle(newsletter)
        incremental, incremental_rss = timed(digest_cmd, newsletter)
        results["digest"] = {
            "full_s": round(full, 2),
            "unchanged_s": round(same, 2),
            "one_new_issue_s": round(incremental, 2),
            "peak_mb": round(max(full_rss, incremental_rss), 1),
            "site_mb": round(
                sum(p.stat().st_size for p in (newsletter / "site").rglob("*") if p.is_file())
                / 1e6,
                1,
            ),
            "search_index_mb": round(
                sum(p.stat().st_size for p in (newsletter / "site").glob("search-index-*.js"))
                / 1e6,
                1,
            ),
        }
        if not args.skip_pelican:
            write_pelican(pelican, newsletter, upto=args.issues)
            p_full, p_rss = timed([*pelican_cmd, "--ignore-cache"], pelican)
            (pelican / "content" / f"{new.number:04d}.md").write_text(
                pelican_article(new), encoding="utf-8"
            )
            p_cached, _ = timed(pelican_cmd, pelican)
            results["pelican"] = {
                "full_s": round(p_full, 2),
                "one_new_issue_s": round(p_cached, 2),
                "peak_mb": round(p_rss, 1),
            }
            results["ratios"] = {
                "full": round(full / p_full, 3),
                "one_new_issue": round(incremental / p_cached, 3),
            }
        results["load_after"] = os.getloadavg()
        print(json.dumps(results, ensure_ascii=False, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
