"""The `openai` backend: any OpenAI-compatible chat-completions server.

vLLM, Ollama, llama.cpp's server or a hosted API: `summarizer.base_url` points at the `/v1`
root, `summarizer.model` names the model, and the key is read from the environment variable
named by `summarizer.api_key_env` (none is sent when it is unset: local servers need none).
Requests run `concurrency` at a time; 429 and 5xx answers and timeouts are retried a bounded
number of times, honouring Retry-After. Standard library only: no SDK to install.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from digest import __version__
from digest.config import Config
from digest.errors import ConfigError, DigestError
from digest.http import retry_after_seconds
from digest.summarize.prompt import Prompt

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
BACKOFF_S = 1.0
MAX_ANSWER_BYTES = 1024 * 1024
RETRY_TEMPERATURE = 0.7  # the one retry after a failed validation asks for a different answer


class SummarizerServerError(DigestError):
    """The chat-completions server refused or could not be reached; names the URL and the fix."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OpenAIGenerator:
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
        self.api_key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
        self.concurrency = settings.concurrency
        self.batch_size = settings.concurrency * 4  # progress moves every few requests
        self.timeout = settings.timeout_seconds
        self.retries = settings.retries
        self.max_tokens = settings.max_new_tokens

    def generate(self, prompts: list[Prompt], *, retry: bool = False) -> list[str]:
        if not prompts:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(lambda p: self._answer(p, retry), prompts))

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
        attempt = 0
        while True:
            try:
                return self._post_once(payload)
            except _Transient as exc:
                if attempt >= self.retries:
                    raise SummarizerServerError(
                        f"{self.url}: {exc} after {attempt + 1} tries — is the server running "
                        "and able to keep up? Lower summarizer.concurrency or raise "
                        "summarizer.timeout_seconds"
                    ) from None
                attempt += 1
                wait = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else BACKOFF_S * 2 ** (attempt - 1)
                )
                log.info("%s: %s; retry %d in %.1f s", self.url, exc, attempt, wait)
                time.sleep(wait)

    def _post_once(self, payload: bytes) -> bytes:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"digest/{__version__}",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read(MAX_ANSWER_BYTES + 1)
                if len(body) > MAX_ANSWER_BYTES:
                    raise SummarizerServerError(f"{self.url}: answer larger than 1 MB")
                return body
        except urllib.error.HTTPError as exc:
            if exc.code in RETRY_STATUSES:
                raise _Transient(f"HTTP {exc.code}", _retry_after(exc.headers)) from None
            detail = exc.read(500).decode("utf-8", "replace")
            if exc.code in (401, 403):
                fix = "set the API key in the environment variable named by summarizer.api_key_env"
            elif exc.code == 404:
                fix = "check summarizer.base_url (it ends in /v1) and summarizer.model"
            else:
                fix = "check summarizer.model and the server's log"
            raise SummarizerServerError(
                f"{self.url}: HTTP {exc.code} {detail.strip()[:200]} — {fix}"
            ) from None
        except TimeoutError:
            raise _Transient(f"no answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Transient(f"no answer within {self.timeout:g} s") from None
            raise _Transient(f"cannot connect ({exc.reason})") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise _Transient(f"connection failed ({exc})") from None


def _retry_after(headers: Any) -> float | None:
    """Retry-After in seconds or as an HTTP date, capped; None when absent or unreadable."""
    return retry_after_seconds(headers.get("Retry-After") if headers is not None else None)
