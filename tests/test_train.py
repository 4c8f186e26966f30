"""`digest train` for real on a tiny random Gemma-3-shaped model: a few optimizer steps on CPU,
a saved adapter with its record and card, an adapter that loads and changes what the model
computes, the validation split held out, and the editor's published briefs as training data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")
pytest.importorskip("peft", reason="peft is not installed (pip install -e '.[model]')")

from tiny_model import tiny_model  # noqa: E402

from digest import issue as issues  # noqa: E402
from digest.cli import main  # noqa: E402
from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.store import Store  # noqa: E402
from digest.summarize.corpus import bundled, from_issues, training_set  # noqa: E402
from digest.summarize.train import (  # noqa: E402
    Hyperparameters,
    TrainingError,
    split,
    train_adapter,
)
from digest.summarize.transformers import merge_adapter  # noqa: E402

LINES = bundled("mixed")[:12]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def adapter(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adapters") / "briefs"
    # A high learning rate so a few steps move the weights far enough to see.
    hp = Hyperparameters(epochs=2, batch_size=4, learning_rate=5e-2, rank=4, alpha=8, max_steps=4)
    steps: list[tuple[int, int]] = []
    result = train_adapter(
        base, LINES, out, hp, device="cpu", progress=lambda d, t, loss: steps.append((d, t))
    )
    assert steps[-1] == (4, 4) and [d for d, _ in steps] == [1, 2, 3, 4]
    assert result.train_lines + result.validation_lines == len(LINES)
    assert len(result.validation_loss) >= 2  # before training, then after each epoch
    assert 1 <= result.best_epoch <= 2
    return out


def test_the_adapter_folder_holds_weights_record_and_card(adapter: Path) -> None:
    names = {p.name for p in adapter.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "training.json"} <= names
    assert "MODEL_CARD.md" in names and "README.md" not in names
    record = json.loads((adapter / "training.json").read_text(encoding="utf-8"))
    assert record["hyperparameters"]["rank"] == 4 and record["steps"] == 4
    assert len(record["adapter_sha256"]) == 64 and record["device"] == "cpu"
    card = (adapter / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Validation loss" in card and "rank 4" in card
    assert not list(adapter.parent.glob(".*partial"))  # assembled aside, renamed whole


def test_the_saved_adapter_loads_and_changes_the_output(base: Path, adapter: Path) -> None:
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
    ids = tokenizer(
        "제목: Mixture of experts\n원문: We study experts.\n- [요약]", return_tensors="pt"
    )
    plain = transformers.AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    tuned = merge_adapter(
        transformers.AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32), adapter
    )
    assert not any("lora" in name for name, _ in tuned.named_parameters())  # merged, not wrapped
    with torch.no_grad():
        before = plain(**ids).logits
        after = tuned(**ids).logits
    assert not torch.allclose(before, after, atol=1e-3)


def test_the_split_is_seeded_disjoint_and_stable() -> None:
    lines = bundled("mixed")[:50]
    train, validation = split(lines, 0.1, seed=1)
    _, again_validation = split(lines, 0.1, seed=1)
    assert [x.id for x in validation] == [x.id for x in again_validation]
    assert len(validation) == 5 and not {x.id for x in train} & {x.id for x in validation}
    assert [x.id for x in split(lines, 0.1, seed=2)[1]] != [x.id for x in validation]


def test_the_evaluation_split_is_never_in_training() -> None:
    trained = {line.id for line in bundled("mixed")}
    held_out = bundled("mixed", "eval")
    assert len(held_out) >= 100 and not trained & {line.id for line in held_out}
    assert len(trained) + len(held_out) >= 1000
    assert {line.kind for line in held_out} >= {"arxiv", "blog", "reddit"}


def test_too_little_data_is_a_clear_error(base: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="at least 4"):
        train_adapter(base, LINES[:2], tmp_path / "out", device="cpu")


def test_digest_train_runs_from_the_command_line(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "mine.jsonl"
    corpus.write_text(
        "".join(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in LINES[:8]),
        encoding="utf-8",
    )
    out = tmp_path / "adapter"
    args = ["train", "--corpus", str(corpus), "--base", str(base), "--output", str(out)]
    with pytest.raises(SystemExit) as done:
        main([*args, "--max-steps", "2", "--batch-size", "4", "--device", "cpu"])
    assert done.value.code == 0
    assert (out / "adapter_model.safetensors").is_file()
    messages = capsys.readouterr().err
    assert "summarizer.adapter:" in messages and "validation loss" in messages
    record = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert record["corpora"][0]["lines"] == 8 and len(record["corpora"][0]["sha256"]) == 64


def test_a_broken_corpus_line_is_named_with_its_line(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "broken.jsonl"
    corpus.write_text('{"id": "x", "title": "t"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["train", "--corpus", str(corpus), "--base", str(base), "--output", str(tmp_path)])
    assert done.value.code == 1
    assert "broken.jsonl:1: missing source, summary, significance" in capsys.readouterr().err


# the editor's published briefs ------------------------------------------------------------------
def _newsroom(tmp_path: Path) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {
                    "id": "arxiv",
                    "title": "arXiv",
                    "sources": [{"id": "s", "type": "rss", "url": "x"}],
                }
            ],
            "base_dir": tmp_path,
        }
    )


def _entry(n: int, **changes: object) -> issues.IssueItem:
    fields: dict[str, object] = {
        "summary": "Sparse experts의 scale을 늘리면 quality가 좋아지다가 멈추는 지점이 있다는 것을 보임.",
        "significance": "experts 수를 고르는 기준을 줘서 설계를 덜 헤매게 함.",
        **changes,
    }
    return issues.IssueItem(
        id=f"https://example.org/{n}",
        title=f"Sparse experts scale, part {n}",
        url=f"https://example.org/{n}",
        source_id="s",
        **fields,  # type: ignore[arg-type]
    )


def test_published_reviewed_briefs_become_training_lines(tmp_path: Path) -> None:
    config = _newsroom(tmp_path)
    source = (
        "We study how sparse experts scale. Adding experts improves quality at fixed "
        "compute until a saturation point."
    )
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with Store(config.state_path) as store:
        store.add_items(
            [
                Item(
                    id=f"https://example.org/{n}",
                    title=f"Sparse experts scale, part {n}",
                    url=f"https://example.org/{n}",
                    source_id="s",
                    section_id="arxiv",
                    summary=source,
                )
                for n in range(1, 5)
            ],
            at,
        )
    entries = [
        _entry(1),  # reviewed: trained on
        _entry(2, unreviewed=True),  # nobody read it
        _entry(3, needs_review=True),  # failed a check
        _entry(4, summary="too short"),  # breaks the corpus rules
        _entry(5),  # the store no longer has its source text
    ]
    published = issues.Issue(
        1, date(2026, 11, 2), "뉴랄브리핑", "published", [issues.Section("arxiv", "arXiv", entries)]
    )
    issues.save(published, config.issues_path)
    draft = issues.Issue(
        2, date(2026, 11, 3), "뉴랄브리핑", "draft", [issues.Section("arxiv", "arXiv", [_entry(6)])]
    )
    issues.save(draft, config.issues_path)
    found = from_issues(config)
    assert [line.id for line in found] == ["https://example.org/1"]
    assert found[0].kind == "issue" and found[0].source == source
    assert found[0].origin == "issue 0001 (2026-11-02)"
    lines, described = training_set([], "mixed", config)
    assert lines[-1].id == "https://example.org/1"
    assert described[-1]["lines"] == 1 and described[0]["lines"] == len(bundled("mixed"))


def test_the_best_epochs_weights_are_the_ones_kept() -> None:
    from digest.summarize.train import BestEpoch

    weight = torch.nn.Parameter(torch.zeros(3))
    best = BestEpoch()
    for epoch, loss in enumerate([2.0, 1.5, 1.7], start=1):
        weight.data.fill_(float(epoch))  # the weights "after epoch N"
        best.offer(epoch, loss, [weight])
    assert best.restore([weight]) == 2
    assert torch.equal(weight.data, torch.full((3,), 2.0))  # epoch 2's, not the last


def test_without_a_validation_split_the_last_epoch_is_kept() -> None:
    from digest.summarize.train import BestEpoch

    weight = torch.nn.Parameter(torch.zeros(1))
    best = BestEpoch()
    for epoch in (1, 2):
        weight.data.fill_(float(epoch))
        best.offer(epoch, float("nan"), [weight])
    assert best.restore([weight]) == 2 and float(weight) == 2.0


def test_a_merged_folder_loads_anywhere_and_computes_what_base_plus_adapter_does(
    base: Path, adapter: Path, tmp_path: Path
) -> None:
    import transformers

    from digest.summarize.merge import write_merged

    out = tmp_path / "merged"
    result = write_merged(base, adapter, out)
    assert result.output == out and result.bytes > 0 and result.adapter_id.startswith("lora-")
    record = json.loads((out / "merged.json").read_text(encoding="utf-8"))
    assert record["adapter_id"] == result.adapter_id and record["dtype"] == "float32"
    assert (out / "adapter" / "adapter_model.safetensors").is_file()  # the client's cache key
    assert not list(tmp_path.glob(".merged*"))  # assembled aside, renamed whole
    # A plain from_pretrained (what a server does): no peft, no LoRA layers, same numbers.
    served = transformers.AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32)
    assert not any("lora" in name for name, _ in served.named_parameters())
    in_process = merge_adapter(
        transformers.AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32), adapter
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(out))
    ids = tokenizer("제목: Mixture of experts\n- [요약]", return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(served(**ids).logits, in_process(**ids).logits, atol=1e-5)


def test_digest_train_merges_an_existing_adapter_without_training(
    base: Path, adapter: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "served"
    args = ["train", "--base", str(base), "--from-adapter", str(adapter), "--merged", str(out)]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    assert (out / "config.json").is_file() and (out / "merged.json").is_file()
    messages = capsys.readouterr().err
    assert f"transformers serve {out}" in messages and f"adapter: {out / 'adapter'}" in messages
    with pytest.raises(SystemExit) as refused:
        main(["train", "--base", str(base), "--from-adapter", str(tmp_path), "--merged", str(out)])
    assert refused.value.code == 2
    assert "has no adapter_config.json" in capsys.readouterr().err
