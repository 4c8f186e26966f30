"""What model calls cost: tokens and seconds, per item and per run.

A backend tells the summarizer each answer's `Usage` (an OpenAI-compatible server's `usage`
object, or the tokens a local model read and wrote); `ModelSummarizer` adds it up per item into
the `Meter` of the run, if one is open. The cron job opens one around its draft stage
(`metered()`) and writes it into the run record. A context variable carries the meter, so the
stages in between (draft, the progress display) need not know about it, and a summarizer used
outside a metered block (tests, `digest review regen`) costs nothing to count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Usage:
    """Tokens and time of one or more model calls: `prompt_tokens` read and
    `completion_tokens` written (as the backend counted them; 0 when a server sends no
    `usage`), `requests` made, and `seconds` of wall clock from request to answer (a batch
    row: its batch's time)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        """Add `other`'s counts and seconds to this one."""
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds


def cost(tokens: int, price_per_1k_tokens: float) -> float | None:
    """What `tokens` cost at `price_per_1k_tokens` (in whatever currency the price is in),
    or None when no price is set (0)."""
    if price_per_1k_tokens <= 0:
        return None
    return tokens * price_per_1k_tokens / 1000


@dataclass
class Meter:
    """The model work of one run: `Usage` per item id, the model that wrote each, how many
    briefs the models were asked for (cached ones are not) and the wall time spent
    summarizing (seconds, all items together)."""

    items: dict[str, Usage] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    briefs: int = 0
    seconds: float = 0.0

    def record(self, item_id: str, model_id: str, usage: Usage) -> None:
        """Add one call's `usage` for the item `item_id`, written by `model_id`."""
        self.items.setdefault(item_id, Usage()).add(usage)
        self.models[item_id] = model_id

    def total(self) -> Usage:
        """Every item's usage added up (`seconds` here is the calls' own time, which exceeds
        the wall time when requests run side by side)."""
        summed = Usage()
        for usage in self.items.values():
            summed.add(usage)
        return summed

    def to_json(self, price_per_1k_tokens: float = 0.0) -> dict[str, object]:
        """The run record's `summarizer` block: totals, cost (None without a price), wall
        seconds per brief, and one row per item."""
        total = self.total()
        return {
            "models": sorted(set(self.models.values())),
            "briefs": self.briefs,
            "requests": total.requests,
            "prompt_tokens": total.prompt_tokens,
            "completion_tokens": total.completion_tokens,
            "tokens": total.tokens,
            "seconds": round(self.seconds, 2),
            "seconds_per_brief": round(self.seconds / self.briefs, 2) if self.briefs else None,
            "price_per_1k_tokens": price_per_1k_tokens or None,
            "cost": _rounded(cost(total.tokens, price_per_1k_tokens)),
            "items": [
                {
                    "id": item_id,
                    "model": self.models.get(item_id, ""),
                    "requests": usage.requests,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "seconds": round(usage.seconds, 2),
                    "cost": _rounded(cost(usage.tokens, price_per_1k_tokens)),
                }
                for item_id, usage in self.items.items()
            ],
        }


def spent(record: Mapping[str, object] | None) -> str:
    """`, 12,345 tokens, cost 0.0123` for a `Meter.to_json()` record whose models answered
    with token counts (the cost only with a price), else "": the tail of the daily summary
    line and of `digest draft`'s line."""
    used = record or {}
    tokens, price = used.get("tokens"), used.get("cost")
    if not isinstance(tokens, int) or not tokens:
        return ""
    return f", {tokens:,} tokens" + (f", cost {price:.4g}" if isinstance(price, float) else "")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


_CURRENT: ContextVar[Meter | None] = ContextVar("digest_usage_meter", default=None)


@contextmanager
def metered() -> Iterator[Meter]:
    """Count every model call made inside the block (in this thread or context) into the
    `Meter` it yields."""
    meter = Meter()
    token = _CURRENT.set(meter)
    try:
        yield meter
    finally:
        _CURRENT.reset(token)


def current() -> Meter | None:
    """The meter of the enclosing `metered()` block, or None outside one."""
    return _CURRENT.get()
