"""The `openai` backend: any OpenAI-compatible chat-completions server.

vLLM, Ollama, llama.cpp's server or a hosted API: `summarizer.base_url` points at the `/v1`
root, `summarizer.model` names the model, and the key is read from the environment variable
named by `summarizer.api_key_env` (none is sent when it is unset: local servers need none).
Requests run `concurrency` at a time through the one HTTP client (`digest.http`): 429 and 5xx
answers and timeouts are retried a bounded number of times, honouring Retry-After, and an
answer is capped at 1 MB. No SDK to install.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor, as_completed

from digest.config import Config, Secrets
from digest.errors import ConfigError, DigestError, FetchError, TransientFetchError
from digest.http import HttpClient
from digest.summarize import Progress, recent_terms, style
from digest.summarize.generative import Answered, ModelSummarizer
from digest.summarize.prompt import Prompt

log = logging.getLogger(__name__)

BACKOFF_S = 1.0
MAX_ANSWER_BYTES = 1024 * 1024
RETRY_TEMPERATURE = 0.7  # the one retry after a failed validation asks for a different answer


class SummarizerServerError(DigestError):
    """The chat-completions server refused or could not be reached; names the URL and the fix."""


def make(config: Config, progress: Progress | None = None) -> ModelSummarizer:
    """The `openai` backend (summarize.BACKENDS)."""
    return ModelSummarizer(OpenAIGenerator(config), recent_terms(config), progress, style(config))


class OpenAIGenerator:
    """A `Generator` on an OpenAI-compatible `/chat/completions` endpoint: chat messages in,
    a JSON object out (temperature 0, or 0.7 for the retry), `concurrency` requests at once.
    An unreadable answer is "" (that brief falls back), not an error.

    Raises ConfigError at construction when `summarizer.model` is empty or `base_url` is not
    a URL; `generate` raises SummarizerServerError naming the URL and the fix when the server
    refuses (401/403, 404, …) or still fails after `summarizer.retries` retries."""

    completion = False  # chat messages in, JSON out
    tuned = False  # the server's model is asked in full, never with the tuned short prompt
    writes_notes = True  # a capable model may propose a 토막상식, marked for the editor

    def __init__(self, config: Config) -> None:
        settings = config.summarizer
        if not settings.model:
            raise ConfigError(
                "feeds.yaml: summarizer.backend openai needs summarizer.model — add the model "
                "name your server serves, e.g. model: qwen2.5-7b-instruct"
            )
        if "://" not in settings.base_url:
            raise ConfigError(
                f"feeds.yaml: summarizer.base_url {settings.base_url!r} is not a URL — "
                "use e.g. http://127.0.0.1:8000/v1"
            )
        self.model = settings.model
        self.model_id = f"openai:{settings.model}"
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        self.api_key = Secrets.from_env().api_key(settings.api_key_env)
        self.concurrency = settings.concurrency
        self.batch_size = settings.concurrency * 4  # progress moves every few requests
        self.timeout = settings.timeout_seconds
        self.retries = settings.retries
        self.max_tokens = settings.max_new_tokens
        self.http = HttpClient(
            timeout=self.timeout,
            # The client's deadline covers every try: room for each retry's timeout.
            total_timeout=self.timeout * (self.retries + 1),
            max_bytes=MAX_ANSWER_BYTES,
            retries=self.retries,
            backoff_s=BACKOFF_S,
            host_spacing={},
            serial_hosts=False,  # the server takes `concurrency` requests at once
        )

    def generate(
        self, prompts: list[Prompt], *, retry: bool = False, on_answer: Answered | None = None
    ) -> list[str]:
        if not prompts:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            futures = [pool.submit(self._answer, p, retry) for p in prompts]
            for answered, _ in enumerate(as_completed(futures), start=1):
                if on_answer is not None:
                    on_answer(answered)  # the bar moves per answer, not per batch
            return [f.result() for f in futures]

    def _answer(self, prompt: Prompt, retry: bool) -> str:
        body = {
            "model": self.model,
            "messages": list(prompt.messages),
            "temperature": RETRY_TEMPERATURE if retry else 0.0,
            "max_tokens": self.max_tokens,
            "response_format": {"type": "json_object"},
        }
        data = self._post(json.dumps(body, ensure_ascii=False).encode())
        try:
            answer = json.loads(data)
            content = answer["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # One odd answer costs one brief (retried, then extractive), not the issue.
            log.warning("%s: unreadable answer (%s): %.200r", self.url, exc, data)
            return ""
        return content if isinstance(content, str) else ""

    def _post(self, payload: bytes) -> bytes:
        """POST through the one HTTP client: its size cap, deadline and bounded retries on
        429/5xx/timeouts (honouring Retry-After). Raises SummarizerServerError naming the URL
        and the fix once the retries are spent or the server refuses."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            return self.http.post(self.url, payload, headers).body
        except TransientFetchError as exc:
            raise SummarizerServerError(
                f"{self.url}: {_reason(exc, self.timeout)} after {self.retries + 1} tries — is "
                "the server running and able to keep up? Lower summarizer.concurrency or raise "
                "summarizer.timeout_seconds"
            ) from None
        except FetchError as exc:
            if exc.status in (401, 403):
                fix = "set the API key in the environment variable named by summarizer.api_key_env"
            elif exc.status == 404:
                fix = "check summarizer.base_url (it ends in /v1) and summarizer.model"
            else:
                fix = "check summarizer.model and the server's log"
            where = f"HTTP {exc.status} {exc.detail}" if exc.status else str(exc)
            raise SummarizerServerError(f"{self.url}: {where.strip()} — {fix}") from None


def _reason(exc: TransientFetchError, timeout: float) -> str:
    if exc.status:
        return f"HTTP {exc.status}"
    if "Timeout" in str(exc) or "timed out" in str(exc):
        return f"no answer within {timeout:g} s"
    return f"cannot connect ({exc})"
