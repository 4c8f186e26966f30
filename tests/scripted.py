"""A summarizer backend for tests, registered the way a real one is (summarize.BACKENDS): it
answers from a queue and records every prompt, so everything downstream of the model (validation,
fallback, the issue file, the site) is tested without one (the pattern of llm's MockModel).

    scripted.enqueue(" 요약 …\\n- [의의] …")   # one answer per item, in order
    scripted.PROMPTS                          # what the summarizer asked
"""

from __future__ import annotations

from digest.config import Config
from digest.summarize import Progress, recent_terms, style
from digest.summarize.generative import Answered, Metered, ModelSummarizer
from digest.summarize.prompt import Prompt

ANSWERS: list[str] = []
PROMPTS: list[Prompt] = []


def enqueue(*answers: str) -> None:
    ANSWERS.extend(answers)


def reset() -> None:
    ANSWERS.clear()
    PROMPTS.clear()


class ScriptedGenerator:
    model_id = "scripted:1"
    batch_size = 4
    completion = True
    tuned = True  # asked with the short tuned prompt, as the embedded model with its adapter
    writes_notes = False

    def generate(
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,  # a script costs nothing: no usage to report
    ) -> list[str]:
        PROMPTS.extend(prompts)
        if len(ANSWERS) < len(prompts):
            raise AssertionError(f"the scripted summarizer has {len(ANSWERS)} answers left")
        answers = []
        for n in range(1, len(prompts) + 1):  # row by row, as a model's rows finish
            answers.append(ANSWERS.pop(0))
            if on_answer is not None:
                on_answer(n)
        return answers


def make(config: Config, progress: Progress | None = None) -> ModelSummarizer:
    return ModelSummarizer(ScriptedGenerator(), recent_terms(config), progress, style(config))
