"""The `openai` backend: any OpenAI-compatible server, chat or completion endpoint.

vLLM, Ollama, llama.cpp's server, `transformers serve` or a hosted API: `summarizer.base_url`
points at the `/v1` root, `summarizer.model` names the model, and the key is read from the
environment variable named by `summarizer.api_key_env` (none is sent when it is unset: local
servers need none). `summarizer.api` picks the endpoint: `chat` (`/v1/chat/completions`, chat
messages, a JSON answer, asked for with a JSON schema where the server supports one) for
instruction models, `completion` (`/v1/completions`, the project's own completion prompt and
stop strings) for base models and for a model merged with one of our adapters. Requests run
`concurrency` at a time through the one HTTP client (`digest.http`): 429 and 5xx answers and
timeouts are retried a bounded number of times, honouring Retry-After, and an answer is capped
at 1 MB. Every answer's `usage` (prompt and completion tokens) and time are reported to the
summarizer for the run record. No SDK to install.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from digest.config import Config, Secrets
from digest.errors import ConfigError, DigestError, FetchError, TransientFetchError
from digest.http import HttpClient
from digest.summarize import Progress, recent_terms, style
from digest.summarize.adapters import adapter_id, resolve_adapter
from digest.summarize.decoding import cut
from digest.summarize.generative import Answered, Metered, ModelSummarizer
from digest.summarize.prompt import LABELS, Prompt
from digest.summarize.usage import Usage

log = logging.getLogger(__name__)

BACKOFF_S = 1.0
MAX_ANSWER_BYTES = 1024 * 1024
RETRY_TEMPERATURE = 0.7  # a retry after a failed validation asks for a different answer
# A server that does not know `response_format` (or this schema) answers 400 or 422: the
# request is sent again without it, and so are the rest of the run's.
REFUSED_FORMAT = (400, 422)


class SummarizerServerError(DigestError):
    """The model server refused or could not be reached; names the URL and the fix.
    `status` is the HTTP status of a refusal (None when no server answered)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def make(config: Config, progress: Progress | None = None) -> ModelSummarizer:
    """The `openai` backend (summarize.BACKENDS)."""
    return ModelSummarizer(OpenAIGenerator(config), recent_terms(config), progress, style(config))


def served_adapter(config: Config) -> Path | None:
    """The adapter merged into the served model, as `summarizer.adapter` says: None for
    `auto` and `none` (a server's model is asked in full), the bundled one for `builtin`, or a
    folder made by `digest train`. Raises ConfigError for a folder without an adapter."""
    if config.summarizer.adapter.strip() in ("auto", "none"):
        return None
    return resolve_adapter(config)


def endpoint(config: Config) -> str:
    """`summarizer.api` in force: `chat` or `completion`; `auto` is `completion` when the
    served model carries one of our adapters (it learned the completion prompt), else `chat`
    (what instruction models and hosted APIs serve)."""
    chosen = config.summarizer.api
    if chosen != "auto":
        return chosen
    return "completion" if served_adapter(config) is not None else "chat"


def answer_schema(notes: bool) -> dict[str, Any]:
    """The JSON schema of a chat answer: `summary` and `significance` strings, and
    `glossary_note` when `notes` (a 토막상식 is asked for)."""
    names = [name for name in LABELS if notes or name != "glossary_note"]
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in names},
        "required": names,
        "additionalProperties": False,
    }


class OpenAIGenerator:
    """A `Generator` on an OpenAI-compatible server, `concurrency` requests at once.

    `chat`: chat messages in, a JSON object out (temperature 0, or 0.7 for a retry).
    `completion`: the completion prompt (the short tuned one when `summarizer.adapter` names
    the adapter merged into the served model, else the few-shot page) with its stop strings,
    labelled lines out, cut where the answer ends. An unreadable answer is "" (that brief
    falls back), not an error.

    Raises ConfigError at construction when `summarizer.model` is empty, `base_url` is not
    a URL or `adapter` names no adapter; `generate` raises SummarizerServerError naming the
    URL and the fix when the server refuses (401/403, 404, …) or still fails after
    `summarizer.retries` retries (requests not yet sent are then not sent)."""

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
        adapter = served_adapter(config)
        self.api = endpoint(config)
        self.completion = self.api == "completion"
        # A merged adapter learned the short prompt and writes no 토막상식.
        self.tuned = adapter is not None
        self.writes_notes = not self.tuned
        self.model = settings.model
        self.model_id = f"openai:{settings.model}"
        if adapter is not None:
            self.model_id += f"+{adapter_id(adapter)}"
        if self.completion:
            self.model_id += "+completion"  # another prompt writes another brief
        root = settings.base_url.rstrip("/")
        self.url = root + ("/completions" if self.completion else "/chat/completions")
        self.structured = True  # asks for a JSON schema until the server refuses one
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
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,
    ) -> list[str]:
        """One answer per prompt, in order (see the class docstring); `on_usage(i, usage)` is
        told each answer's tokens (from the server's `usage`) and seconds as it arrives."""
        if not prompts:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts)))
        try:
            futures = {pool.submit(self._answer, p, attempt): i for i, p in enumerate(prompts)}
            pending: set[Future[tuple[str, Usage]]] = set(futures)
            answered = 0
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                # Answers first, so what was answered is counted before a failure is raised.
                for future in sorted(done, key=lambda f: f.exception() is not None):
                    if future.exception() is not None:
                        # The server is gone or refuses: the queued requests would only
                        # fail the same way, one retry schedule each.
                        for waiting in pending:
                            waiting.cancel()
                        future.result()  # raises SummarizerServerError
                    answered += 1
                    if on_usage is not None:
                        on_usage(futures[future], future.result()[1])
                    if on_answer is not None:
                        on_answer(answered)  # the bar moves per answer, not per batch
            return [f.result()[0] for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def request(self, prompt: Prompt, attempt: int = 0) -> dict[str, Any]:
        """The JSON body asking for `prompt` on this generator's endpoint; `attempt` ≥ 1 (a
        retry after failed validation) samples at RETRY_TEMPERATURE."""
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": RETRY_TEMPERATURE if attempt else 0.0,
            "max_tokens": self.max_tokens,
        }
        if self.completion:
            body["prompt"] = prompt.completion
            body["stop"] = list(prompt.stop)[:4]  # the API takes up to four
            return body
        body["messages"] = list(prompt.messages)
        if self.structured:
            schema = answer_schema(prompt.wants_glossary)
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "brief", "strict": True, "schema": schema},
            }
        return body

    def _answer(self, prompt: Prompt, attempt: int) -> tuple[str, Usage]:
        started = time.monotonic()
        body = self.request(prompt, attempt)
        try:
            data = self._post(body)
        except SummarizerServerError as exc:
            if "response_format" not in body or exc.status not in REFUSED_FORMAT:
                raise
            log.warning(
                "%s refused the JSON schema (%s); asking without one from now on", self.url, exc
            )
            self.structured = False
            del body["response_format"]
            data = self._post(body)
        text, usage = self._read(data)
        usage.seconds = time.monotonic() - started
        return cut(text, prompt, self.completion), usage

    def _read(self, data: bytes) -> tuple[str, Usage]:
        """The answer's text and its `usage`; an unreadable answer is "" with what is known."""
        usage = Usage(requests=1)
        try:
            answer = json.loads(data)
            counted = answer.get("usage") or {}
            usage.prompt_tokens = _count(counted.get("prompt_tokens"))
            usage.completion_tokens = _count(counted.get("completion_tokens"))
            choice = answer["choices"][0]
            content = choice["text"] if self.completion else choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            # One odd answer costs one brief (retried, then extractive), not the issue.
            log.warning("%s: unreadable answer (%s): %.200r", self.url, exc, data)
            return "", usage
        return (content if isinstance(content, str) else ""), usage

    def _post(self, body: dict[str, Any]) -> bytes:
        """POST `body` as JSON through the one HTTP client: its size cap, deadline and bounded
        retries on 429/5xx/timeouts (honouring Retry-After). Raises SummarizerServerError
        naming the URL and the fix once the retries are spent or the server refuses."""
        payload = json.dumps(body, ensure_ascii=False).encode()
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
            raise SummarizerServerError(
                f"{self.url}: {where.strip()} — {fix}", status=exc.status
            ) from None


def _count(value: object) -> int:
    """A token count from a server's `usage`; anything else (missing, null, odd) is 0."""
    return value if isinstance(value, int) and value >= 0 else 0


def _reason(exc: TransientFetchError, timeout: float) -> str:
    if exc.status:
        return f"HTTP {exc.status}"
    if "Timeout" in str(exc) or "timed out" in str(exc):
        return f"no answer within {timeout:g} s"
    return f"cannot connect ({exc})"
