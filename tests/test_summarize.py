"""The model-independent half of summarizing: prompt, parse, validate, retry, fall back,
glossary choice and the brief cache. A scripted generator stands in for the model."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.config import Config
from digest.errors import ConfigError
from digest.glossary import (
    GlossaryTerm,
    load_glossary,
    matches,
    pick_term,
    recently_explained,
    term_of_note,
)
from digest.issue import Issue, IssueItem, Section
from digest.models import Brief, Item
from digest.store import Store
from digest.summarize import BACKENDS, make_summarizer, summarize_cached
from digest.summarize.generative import RETRIES, Answered, Metered, ModelSummarizer
from digest.summarize.prompt import EXAMPLES, Prompt, build, parse, source_text, tuned_prompt
from digest.summarize.usage import Usage, metered
from digest.summarize.validate import hangul_share, note_problems, problems, text_faults

ALL_TERMS = frozenset(t.term for t in load_glossary())
GOOD = (
    " 희소 전문가 혼합 모델에서 전문가 수를 늘리면 같은 계산량으로 품질이 좋아지다가 어느 지점에서 "
    "멈춘다는 것을 보임.\n- [의의] 전문가 수를 고르는 간단한 규칙을 줘서 모델 설계를 덜 헤매게 함."
)


def item(n: int = 1, title: str = "", summary: str = "") -> Item:
    return Item(
        id=f"item-{n}",
        title=title or f"Scaling sparse experts, part {n}",
        url=f"https://example.org/{n}",
        source_id="blog",
        section_id="google",
        summary=summary
        or (
            "We study how the loss of sparse expert language models scales with the number of "
            "experts. Adding experts improves quality at fixed compute until a saturation point."
        ),
    )


class Scripted:
    """A `Generator` that answers from a queue and records what it was asked."""

    model_id = "scripted:1"
    batch_size = 2

    def __init__(
        self,
        answers: list[str],
        completion: bool = True,
        *,
        tuned: bool = False,
        writes_notes: bool = True,
    ) -> None:
        self.answers = list(answers)
        self.completion = completion
        self.tuned = tuned
        self.writes_notes = writes_notes
        self.calls: list[tuple[int, int]] = []
        self.prompts: list[Prompt] = []

    def generate(
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,
    ) -> list[str]:
        self.calls.append((len(prompts), attempt))
        for row, prompt in enumerate(prompts):
            if on_usage is not None:  # a made-up count: a token per four characters asked
                on_usage(row, Usage(1, len(prompt.completion) // 4, 10, 0.5))
        self.prompts.extend(prompts)
        return [self.answers.pop(0) for _ in prompts]


# prompt and parse ------------------------------------------------------------------------------
def test_completion_prompt_is_few_shot_in_the_newsletter_format() -> None:
    prompt = build(item(), None)
    assert prompt.completion.count("제목:") == len(EXAMPLES) + 1
    assert prompt.completion.endswith("- [요약]")
    assert "Scaling sparse experts, part 1" in prompt.completion
    assert prompt.wants_glossary


def test_a_curated_term_stops_the_model_before_its_own_note() -> None:
    term = load_glossary()[0]
    prompt = build(item(), term)
    assert "\n- [토막상식]" in prompt.stop and not prompt.wants_glossary
    assert "glossary_note" not in prompt.messages[0]["content"]  # the chat model is not asked


def test_long_sources_are_cut_at_a_sentence() -> None:
    text = "This is a sentence about models. " * 60
    cut = source_text(item(summary=text))
    assert len(cut) <= 700 and cut.endswith(".")


def test_parse_labelled_lines_after_the_prompt() -> None:
    draft = parse(
        GOOD + "\n- [토막상식] 전문가 혼합은 여러 하위 네트워크 중 몇 개만 골라 쓰는 구조임.", True
    )
    assert draft.summary.startswith("희소 전문가")
    assert draft.significance.startswith("전문가 수를")
    assert draft.glossary_note.startswith("전문가 혼합은")


def test_parse_json_from_a_chat_model_even_fenced() -> None:
    answer = {"summary": "요약임", "significance": "의의임", "glossary_note": ""}
    fenced = "```json\n" + json.dumps(answer, ensure_ascii=False) + "\n```"
    draft = parse(fenced, completion=False)
    assert (draft.summary, draft.significance, draft.glossary_note) == ("요약임", "의의임", "")


@pytest.mark.parametrize("junk", ["", "{not json", "[1, 2]", "plain words"])
def test_parse_of_junk_gives_empty_fields(junk: str) -> None:
    draft = parse(junk, completion=False)
    assert not draft.summary and not draft.significance


# validation ------------------------------------------------------------------------------------
def test_a_good_draft_passes() -> None:
    assert problems(parse(GOOD, True), item()) == []


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            " We show that experts help.\n- [의의] It matters a lot for everyone.",
            "not a Korean sentence",
        ),
        (
            " 짧음\n- [의의] 전문가 수를 고르는 간단한 규칙을 줘서 모델 설계를 덜 헤매게 함.",
            "characters",
        ),
        (
            "\n- [의의] 전문가 수를 고르는 간단한 규칙을 줘서 모델 설계를 덜 헤매게 함.",
            "요약 is empty",
        ),
        (f" {EXAMPLES[0].summary}\n- [의의] 전문가 수를 고르는 규칙을 줌.", "repeats"),
        (
            " 제목: 전문가 혼합 모델의 스케일링을 연구한 글임.\n- [의의] 규칙을 줘서 설계를 덜 헤매게 함.",
            "repeats",
        ),
        (
            " 전문가를 늘리면 품질이 73.5% 좋아진다는 것을 보임.\n- [의의] 규칙을 줘서 설계를 쉽게 함.",
            "number not in the source: 73.5",
        ),
        (
            " 자세한 내용은 https://evil.example/x 에 있다고 함.\n- [의의] 규칙을 줘서 설계를 쉽게 함.",
            "link not in the source",
        ),
    ],
)
def test_bad_drafts_are_named(answer: str, expected: str) -> None:
    found = problems(parse(answer, True), item())
    assert any(expected in str(p) for p in found), found


def test_numbers_and_links_from_the_source_are_fine() -> None:
    source = item(summary="Our 7B model reaches 81.2 on MMLU. Code: https://github.com/x/y")
    draft = parse(
        " 7B 모델이 MMLU에서 81.2점을 냄. 코드는 https://github.com/x/y 에 있음.\n"
        "- [의의] 작은 모델도 큰 모델만큼 하는 길을 보여 줌.",
        True,
    )
    assert problems(draft, source) == []


def test_a_bad_model_note_is_dropped_not_the_brief() -> None:
    answer = GOOD + "\n- [토막상식] This is an English note about robots."
    draft = parse(answer, True)
    assert problems(draft, item()) == [] and note_problems(draft, item())
    brief = ModelSummarizer(Scripted([answer]), recent_terms=ALL_TERMS).summarize([item()])[0]
    assert brief.glossary_note == "" and not brief.glossary_generated
    assert brief.summary and not brief.needs_review


def test_hangul_share_counts_letters_only() -> None:
    assert hangul_share("CNN을 키움 123 !!") == pytest.approx(3 / 6)
    assert hangul_share("1234") == 0.0


# the summarizer around a generator --------------------------------------------------------------
def test_good_answers_become_briefs_with_the_curated_note() -> None:
    items = [item(1, "Mixture of experts at scale"), item(2, "Another sparse model")]
    summarizer = ModelSummarizer(Scripted([GOOD, GOOD]))
    briefs = summarizer.summarize(items)
    assert [b.model for b in briefs] == ["scripted:1", "scripted:1"]
    first = briefs[0]
    assert first.summary.startswith("희소") and first.significance and not first.needs_review
    assert first.glossary_note.startswith("전문가 혼합(Mixture of experts)") or (
        "Mixture of experts" in first.glossary_note or "MoE" in first.glossary_note
    )
    assert first.key_sentence  # quoted from the source by the extractive helper
    assert briefs[1].glossary_note != first.glossary_note  # one note per concept per run


def test_a_failed_brief_is_retried_with_sampling_until_one_passes() -> None:
    generator = Scripted(["garbage", GOOD, "still English words here", GOOD])
    summarizer = ModelSummarizer(generator)
    first, second = summarizer.summarize([item(1), item(2)])
    # item 1 fails twice; each retry is a new attempt number (a new seed), only for it
    assert generator.calls == [(2, 0), (1, 1), (1, 2)]
    assert first.summary.startswith("희소") and not first.needs_review
    assert not second.needs_review
    assert (summarizer.retried, summarizer.rescued) == (2, 1)  # the bench reports these


def test_retries_stop_after_the_last_try_and_keep_the_best() -> None:
    soft = MIXED.replace("saturation point", "emergent misalignment")  # one soft fault
    generator = Scripted(["garbage", soft, "garbage", "garbage"], writes_notes=False)
    brief = ModelSummarizer(generator, style="mixed").summarize([item()])[0]
    assert [attempt for _, attempt in generator.calls] == list(range(RETRIES + 1))
    assert brief.summary.startswith("sparse expert")  # the soft-fault try, not the last one
    assert any("'emergent'" in reason for reason in brief.review_reasons)


def test_usage_is_summed_per_item_retries_included_inside_a_metered_block() -> None:
    generator = Scripted(["garbage", GOOD, GOOD])
    summarizer = ModelSummarizer(generator)
    with metered() as meter:
        summarizer.summarize([item(1), item(2)])
    assert meter.briefs == 2 and meter.seconds >= 0
    first, second = meter.items["item-1"], meter.items["item-2"]
    assert first.requests == 2 and second.requests == 1  # item 1 was asked again
    assert first.completion_tokens == 20 and first.prompt_tokens > 0
    assert meter.models == {"item-1": "scripted:1", "item-2": "scripted:1"}
    assert summarizer.usage.requests == 3
    record = meter.to_json(price_per_1k_tokens=2.0)
    tokens = first.tokens + second.tokens
    assert record["tokens"] == tokens and record["cost"] == round(tokens * 2.0 / 1000, 6)
    assert meter.to_json()["cost"] is None  # no price, no cost
    generator.answers = [GOOD]
    summarizer.summarize([item(3)])  # outside the block: nothing recorded
    assert "item-3" not in meter.items


def test_a_brief_failing_every_try_falls_back_to_extractive_marked_for_review() -> None:
    generator = Scripted(["garbage"] + ["still English words here"] * RETRIES)
    summarizer = ModelSummarizer(generator)
    brief = summarizer.summarize([item()])[0]
    assert (summarizer.retried, summarizer.rescued) == (RETRIES, 0)
    assert brief.needs_review and brief.model == "scripted:1"
    assert brief.summary and brief.key_sentence  # never an empty brief, never silently
    assert len(generator.calls) == 1 + RETRIES


def test_a_model_proposed_note_is_marked_generated_and_for_review() -> None:
    answer = (
        GOOD + "\n- [토막상식] 모방 학습은 사람이 하는 것을 보고 그대로 따라 하며 배우는 방식임."
    )
    summarizer = ModelSummarizer(Scripted([answer]), recent_terms=ALL_TERMS)  # none curated left
    brief = summarizer.summarize([item()])[0]
    assert brief.glossary_generated and brief.needs_review
    assert brief.glossary_note.startswith("모방 학습")


def test_recently_explained_terms_are_skipped() -> None:
    moe = pick_term("Mixture of experts at scale", "")
    assert moe is not None
    summarizer = ModelSummarizer(Scripted([GOOD]), recent_terms=frozenset({moe.term}))
    brief = summarizer.summarize([item(1, "Mixture of experts at scale")])[0]
    assert moe.note not in brief.glossary_note


def test_batches_follow_the_generator_and_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    generator = Scripted([GOOD] * 5)
    ModelSummarizer(generator, progress=lambda d, t: seen.append((d, t))).summarize(
        [item(n) for n in range(5)]
    )
    assert [n for n, _ in generator.calls] == [2, 2, 1]
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_second_run_makes_no_model_calls(tmp_path: Path) -> None:
    store = Store(tmp_path)
    items = [item(1), item(2)]
    generator = Scripted([GOOD, GOOD])
    summarizer = ModelSummarizer(generator)
    at = datetime(2026, 11, 23, tzinfo=UTC)
    first, hits = summarize_cached(summarizer, items, store, "1", at)
    assert hits == 0 and summarizer.model_calls == 2
    again, hits = summarize_cached(summarizer, items, store, "1", at)
    assert hits == 2 and summarizer.model_calls == 2 and again == first
    generator.answers = [GOOD, GOOD]
    summarize_cached(summarizer, items, store, "2", at)  # a new prompt version recomputes
    assert summarizer.model_calls == 4


# glossary ---------------------------------------------------------------------------------------
def test_detection_uses_word_boundaries_aliases_and_korean_names() -> None:
    assert pick_term("Our LLM agent", "") is not None
    assert pick_term("", "강화학습은 보상으로 배움") is not None
    in_a_word = pick_term("Check the URL list", "")  # "RL" inside "URL" is no match
    assert in_a_word is None or in_a_word.term != "Reinforcement learning"


def test_the_most_specific_term_wins() -> None:
    found = matches("Large language model agents", "")
    assert found and found[0].term.term == "Large language model"


def test_title_terms_come_before_body_terms() -> None:
    term = pick_term("A new benchmark", "We fine-tune a transformer.")
    assert term is not None and term.term == "Benchmark"


def test_first_mention_is_korean_then_english() -> None:
    embedding = GlossaryTerm("Embedding", "임베딩", "임베딩은 숫자 벡터임. 임베딩은 가까움.")
    assert embedding.display_note == "임베딩(Embedding)은 숫자 벡터임. 임베딩은 가까움."
    tav = GlossaryTerm("Software testing", "소프트웨어 검증", "소프트웨어 검증(TAV)은 확인임.")
    assert tav.display_note == tav.note  # already has its parenthesis


def test_published_notes_of_the_last_30_issues_are_not_repeated() -> None:
    terms = load_glossary()
    old, recent = terms[0], terms[1]

    def issue(number: int, note: str, status: str = "published") -> Issue:
        it = IssueItem(id=f"i{number}", title="t", url="u", glossary_note=note)
        return Issue(number, date(2026, 1, 1), "뉴랄브리핑", status, [Section("s", "S", [it])])

    issues = [issue(1, old.note)] + [issue(n, "") for n in range(2, 32)]
    issues.append(issue(32, recent.display_note))
    issues.append(issue(33, terms[2].note, status="draft"))  # drafts don't count
    used = recently_explained(issues)
    assert used == frozenset({recent.term})
    assert term_of_note(old.note) == old


# registry ---------------------------------------------------------------------------------------
def _config(tmp_path: Path, **summarizer: object) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": summarizer,
            "base_dir": tmp_path,
        }
    )


def test_registry_has_the_three_backends() -> None:
    assert set(BACKENDS) == {"extractive", "transformers", "openai"}


def test_openai_without_a_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"summarizer.model"):
        make_summarizer(_config(tmp_path, backend="openai"))


def test_extractive_reads_recent_issues_at_construction(tmp_path: Path) -> None:
    summarizer = make_summarizer(_config(tmp_path, backend="extractive"))
    assert summarizer.model_id == "extractive"


def test_a_fully_cached_day_never_loads_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digest.summarize.transformers as backend

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded although every brief is cached")

    monkeypatch.setattr(backend, "TransformersGenerator", no_load)
    summarizer = make_summarizer(_config(tmp_path, backend="transformers"))
    # The bundled adapter is part of the model's name, so a retrained one writes new briefs.
    assert summarizer.model_id.startswith("transformers:gemma-3-270m-q4_k_m+lora-")
    items = [item(1), item(2)]
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Store(tmp_path / "state") as store:
        for one in items:
            store.cache_brief(
                one.content_hash, summarizer.model_id, "1", Brief(summary="요약"), now
            )
        briefs, hits = summarize_cached(summarizer, items, store, "1", now)
    assert hits == 2 and [b.summary for b in briefs] == ["요약", "요약"]


# the code-mixed style --------------------------------------------------------------------------
MIXED = (
    " sparse expert language models에서 experts 수를 늘리면 fixed compute에서 quality가 좋아지다가 "
    "saturation point에 이른다는 것을 보임.\n- [의의] experts 수를 고르는 기준을 줘서 설계를 덜 헤매게 함."
)


def test_a_code_mixed_brief_passes_in_its_style_only() -> None:
    draft = parse(MIXED, True)
    assert problems(draft, item(), "mixed") == []
    found = [str(p) for p in problems(draft, item(), "korean")]
    assert any("not a Korean sentence" in p for p in found)  # ≥ 50 % Hangul stays for korean


def test_an_english_term_not_in_the_source_is_named() -> None:
    answer = MIXED.replace("saturation point", "emergent misalignment")
    found = [str(p) for p in problems(parse(answer, True), item(), "mixed")]
    assert "요약 uses 'emergent', which is not in the title or source" in found
    assert "요약 uses 'misalignment', which is not in the title or source" in found


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("experts 수가 1.6억개로 늘어나도 quality가 좋아짐.", "converts a number's scale: 1.6억"),
        ("experts를 늘리면 quality가 좋아진다.", "음슴체"),
        ("experts를 늘리면 quality가 좋아집니다.", "음슴체"),
        ("모델 설계 규칙을 줌 모델 설계 규칙을 줌 모델 설계 규칙을 줌.", "repeats itself"),
    ],
)
def test_mixed_style_faults_are_named(text: str, fault: str) -> None:
    source = "We scale experts to 1.6 million. Quality improves with experts."
    found = [str(f) for f in text_faults(text, "요약", (15, 400), source, "mixed")]
    assert any(fault in f for f in found), found


def test_soft_faults_keep_the_model_brief_and_name_them_for_the_editor() -> None:
    answer = MIXED.replace("saturation point", "emergent misalignment")
    generator = Scripted([answer] * (1 + RETRIES), writes_notes=False)
    brief = ModelSummarizer(generator, style="mixed").summarize([item()])[0]
    assert brief.summary.startswith("sparse expert") and brief.needs_review
    assert any("'emergent'" in reason for reason in brief.review_reasons)
    assert len(generator.calls) == 1 + RETRIES  # asked again before it was kept with the flag


def test_hard_faults_fall_back_to_the_extractive_brief_with_the_reason() -> None:
    english = " We show that experts help a lot.\n- [의의] It matters for everyone."
    generator = Scripted([english] * (1 + RETRIES))
    brief = ModelSummarizer(generator, style="mixed").summarize([item()])[0]
    assert brief.needs_review and brief.review_reasons[0].startswith("model brief rejected")
    assert "not a Korean sentence" in brief.review_reasons[0]


def test_a_tuned_generator_gets_the_short_prompt_and_no_note_request() -> None:
    generator = Scripted([MIXED], tuned=True, writes_notes=False)
    ModelSummarizer(generator, recent_terms=ALL_TERMS, style="mixed").summarize([item()])
    prompt = generator.prompts[0]
    assert prompt.completion == tuned_prompt(item().title, source_text(item()))
    assert "제목:" in prompt.completion and prompt.completion.count("제목:") == 1  # no examples
    assert not prompt.wants_glossary and "\n- [토막상식]" in prompt.stop


def test_the_embedded_model_never_writes_a_note() -> None:
    answer = MIXED + "\n- [토막상식] 전문가 혼합은 여러 하위 네트워크 중 몇 개만 골라 쓰는 구조임."
    generator = Scripted([answer], writes_notes=False)
    brief = ModelSummarizer(generator, recent_terms=ALL_TERMS, style="mixed").summarize([item()])
    assert brief[0].glossary_note == "" and not brief[0].glossary_generated


def test_the_style_follows_the_model_and_is_in_the_cache_key(tmp_path: Path) -> None:
    from digest.summarize import cache_version, style

    embedded = _config(tmp_path, backend="transformers")
    bigger = _config(tmp_path, backend="transformers", model="Qwen/Qwen2.5-7B-Instruct")
    server = _config(tmp_path, backend="openai", model="qwen")
    assert (style(embedded), style(bigger), style(server)) == ("mixed", "korean", "korean")
    assert cache_version(embedded) != cache_version(_config(tmp_path, style="korean"))
    with_adapter = make_summarizer(embedded).model_id
    without = make_summarizer(_config(tmp_path, backend="transformers", adapter="none")).model_id
    assert with_adapter != without and "+lora-" in with_adapter


def test_an_adapter_folder_without_weights_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"summarizer.adapter 'empty'.*digest train"):
        make_summarizer(_config(tmp_path, backend="transformers", adapter="empty"))
