"""Progress that tells the truth (issue 15, point 9): the summarize bar moves per item within a
batch, retries get a bar of their own (so the display neither sits at 100% nor stops its clock),
and transformers' own bars and warnings never print through ours."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from digest.config import Config
from digest.models import Item
from digest.progress import ProgressSummarizer
from digest.summarize.decoding import StopWhenAnswered

GOOD = (
    " Google Research의 sparse experts 연구를 소개함. 원문이 밝힌 내용을 짧게 정리함.\n"
    "- [의의] sparse experts가 무엇을 바꾸는지 보여 줌."
)
BROKEN = ""  # no brief at all: validation fails, the item is asked for again


class Recorder:
    """A `Progress` that remembers every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def stage(self, name: str, total: int | None = None) -> None:
        self.calls.append(("stage", (name, total)))

    def advance(self, steps: int = 1) -> None:
        self.calls.append(("advance", steps))


def config(tmp_path: Path, batch_size: int) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "s", "title": "S", "sources": [{"id": "f", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {"backend": "scripted", "style": "mixed", "batch_size": batch_size},
            "base_dir": tmp_path,
        }
    )


def items(n: int) -> list[Item]:
    return [
        Item(
            f"x{i}",
            "Sparse experts at scale",
            f"https://e.org/{i}",
            "f",
            "s",
            summary="Google Research studies sparse experts and what they change.",
        )
        for i in range(n)
    ]


def test_the_bar_moves_one_item_at_a_time_within_a_batch(tmp_path: Path, scripted: Any) -> None:
    scripted.enqueue(*[GOOD] * 12)
    progress = Recorder()
    summarizer = ProgressSummarizer(config(tmp_path, 4), progress)
    briefs = summarizer.summarize(items(6))
    assert len(briefs) == 6
    assert progress.calls[0] == ("stage", ("summarize", 6))
    first_pass = progress.calls[1:7]
    # Six steps of one, not a jump of four (the batch) and one of two.
    assert first_pass == [("advance", 1)] * 6


def test_retries_get_their_own_bar_and_count_every_answer(tmp_path: Path, scripted: Any) -> None:
    scripted.enqueue(GOOD, BROKEN, GOOD, BROKEN, *[GOOD] * 8)
    progress = Recorder()
    summarizer = ProgressSummarizer(config(tmp_path, 4), progress)
    summarizer.summarize(items(4))
    stages = [args for kind, args in progress.calls if kind == "stage"]
    assert stages[0] == ("summarize", 4)
    retried = summarizer._inner.retried  # type: ignore[union-attr]
    assert retried >= 2  # the two empty answers at least
    assert stages[1:] == [("retry", retried)]
    steps = [args for kind, args in progress.calls if kind == "advance"]
    assert steps == [1] * (4 + retried)  # one step per answer, retries included


def test_a_batch_reports_each_row_once_as_it_finishes() -> None:
    told: list[int] = []
    criteria = StopWhenAnswered(None, 0, [], True, told.append)
    for answered in (0, 2, 2, 1, 3, 3):  # generate() asks after every token
        criteria.report(answered)
    assert told == [2, 3]


def test_library_deprecation_notices_never_reach_the_user() -> None:
    from digest.summarize.embedded import library_warnings_off

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with library_warnings_off():
            warnings.warn("`past_key_values` is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("ours still shows", UserWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == ["ours still shows"]


def test_the_gguf_reader_draws_no_bar_of_its_own(capsys: Any) -> None:
    """transformers' GGUF reader calls tqdm directly; converting the embedded model once must
    not print that bar into the cron mail."""
    reader = pytest.importorskip("transformers.modeling_gguf_pytorch_utils")
    from digest.summarize.embedded import gguf_bar_off

    with gguf_bar_off():
        assert list(reader.tqdm(range(3), desc="Converting and de-quantizing")) == [0, 1, 2]
    assert "Converting" not in capsys.readouterr().err
    list(reader.tqdm(range(3), desc="Converting and de-quantizing", file=sys.stderr))
    assert "Converting" in capsys.readouterr().err  # restored afterwards: the test can fail
