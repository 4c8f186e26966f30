"""The `openai` backend against a real local HTTP server speaking the OpenAI API (chat and
legacy completions): good JSON answers, 429 with Retry-After, 5xx, malformed bodies, auth
errors, concurrency, a refused JSON schema, token usage."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from digest.config import Config
from digest.models import Item
from digest.summarize import make_summarizer, style
from digest.summarize.generative import RETRIES, ModelSummarizer
from digest.summarize.openai import OpenAIGenerator, SummarizerServerError
from digest.summarize.prompt import tuned_prompt
from digest.summarize.usage import metered

ANSWER = {
    "summary": "희소 전문가 혼합 모델은 전문가 수를 늘리면 같은 계산으로 품질이 좋아지다가 멈춤.",
    "significance": "전문가 수를 고르는 규칙을 줘서 모델 설계를 덜 헤매게 함.",
    "glossary_note": "",
}


def completion(content: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


GOOD = (200, {}, json.dumps(completion(json.dumps(ANSWER, ensure_ascii=False))).encode())
LINES = f" {ANSWER['summary']}\n- [의의] {ANSWER['significance']}\n"
USAGE = {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}
TEXT = (200, {}, json.dumps({"choices": [{"index": 0, "text": LINES}], "usage": USAGE}).encode())


class ChatServer:
    """Answers POST /v1/chat/completions and /v1/completions from a script of (status,
    headers, body); unscripted, a good answer in the endpoint's shape."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                with server.lock:
                    server.requests.append(body)
                    server.paths.append(self.path)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    default = TEXT if self.path == "/v1/completions" else GOOD
                    status, headers, payload = server.script.pop(0) if server.script else default
                time.sleep(server.delay)
                if self.path not in ("/v1/chat/completions", "/v1/completions"):
                    status, headers, payload = 404, {}, b'{"error": "not found"}'
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                with server.lock:
                    server.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer()
    yield s
    s.close()


def config(tmp_path: Path, url: str, **extra: object) -> Config:
    settings = {"backend": "openai", "model": "test-model", "base_url": url, **extra}
    return Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": settings,
            "base_dir": tmp_path,
        }
    )


def items(n: int) -> list[Item]:
    return [
        Item(
            id=f"i{k}",
            title=f"Sparse experts {k}",
            url=f"https://example.org/{k}",
            source_id="s",
            section_id="a",
            summary="We study how sparse expert models scale with the number of experts.",
        )
        for k in range(n)
    ]


def test_briefs_from_json_answers_with_the_key_from_the_environment(
    server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    summarizer = make_summarizer(config(tmp_path, server.url, api_key_env="MY_KEY"))
    briefs = summarizer.summarize(items(2))
    assert [b.summary for b in briefs] == [ANSWER["summary"]] * 2
    assert all(b.model == "openai:test-model" and not b.needs_review for b in briefs)
    request = server.requests[0]
    assert server.paths[0] == "/v1/chat/completions"
    assert request["model"] == "test-model" and request["temperature"] == 0.0
    schema = request["response_format"]["json_schema"]["schema"]
    assert request["response_format"]["type"] == "json_schema"
    assert set(schema["required"]) >= {"summary", "significance"}
    assert request["messages"][0]["role"] == "system"
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_no_key_no_authorization_header(server: ChatServer, tmp_path: Path) -> None:
    OpenAIGenerator(config(tmp_path, server.url, api_key_env="UNSET_KEY_VAR")).generate([])
    make_summarizer(config(tmp_path, server.url, api_key_env="UNSET_KEY_VAR")).summarize(items(1))
    assert "Authorization" not in server.headers[0]


def test_429_is_retried_after_the_server_says(server: ChatServer, tmp_path: Path) -> None:
    server.script = [(429, {"Retry-After": "1"}, b"slow down"), (503, {}, b"busy"), GOOD]
    started = time.monotonic()
    briefs = make_summarizer(config(tmp_path, server.url)).summarize(items(1))
    assert briefs[0].summary == ANSWER["summary"]
    assert len(server.requests) == 3
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_retries_are_bounded_and_name_the_server(server: ChatServer, tmp_path: Path) -> None:
    server.script = [(500, {"Retry-After": "0"}, b"down")] * 3
    with pytest.raises(SummarizerServerError, match=r"127\.0\.0\.1.*HTTP 500 after 2 tries"):
        make_summarizer(config(tmp_path, server.url, retries=1)).summarize(items(1))
    assert len(server.requests) == 2


def test_malformed_json_is_retried_then_falls_back_marked(
    server: ChatServer, tmp_path: Path
) -> None:
    server.script = [(200, {}, b"{this is not json")] + [
        (200, {}, json.dumps(completion("not the JSON we asked for")).encode())
    ] * RETRIES
    brief = make_summarizer(config(tmp_path, server.url)).summarize(items(1))[0]
    assert brief.needs_review and brief.model == "openai:test-model"
    assert brief.summary or brief.key_sentence  # the extractive fallback: never empty
    assert len(server.requests) == 1 + RETRIES
    assert server.requests[0]["temperature"] == 0
    assert all(r["temperature"] > 0 for r in server.requests[1:])  # retries ask for others


def test_auth_failure_is_an_error_with_the_fix(server: ChatServer, tmp_path: Path) -> None:
    server.script = [(401, {}, b'{"error": "bad key"}')]
    with pytest.raises(SummarizerServerError, match="api_key_env"):
        make_summarizer(config(tmp_path, server.url)).summarize(items(1))


def test_a_dead_server_is_named(tmp_path: Path) -> None:
    generator = OpenAIGenerator(config(tmp_path, "http://127.0.0.1:9/v1", retries=0))
    summarizer = ModelSummarizer(generator)
    with pytest.raises(SummarizerServerError, match="is the server running"):
        summarizer.summarize(items(1))


def test_concurrency_is_bounded(server: ChatServer, tmp_path: Path) -> None:
    server.delay = 0.2
    seen: list[tuple[int, int]] = []
    summarizer = make_summarizer(
        config(tmp_path, server.url, concurrency=2), progress=lambda d, t: seen.append((d, t))
    )
    summarizer.summarize(items(6))
    assert server.max_in_flight == 2
    assert seen[-1] == (6, 6)  # progress reaches the draft stage's bar
    assert len(server.requests) == 6


def test_completion_api_sends_the_completion_prompt_with_its_stop_strings(
    server: ChatServer, tmp_path: Path
) -> None:
    summarizer = make_summarizer(config(tmp_path, server.url, api="completion"))
    assert summarizer.model_id == "openai:test-model+completion"  # another prompt, another key
    with metered() as meter:
        briefs = summarizer.summarize(items(2))
    assert [b.summary for b in briefs] == [ANSWER["summary"]] * 2 and not briefs[0].needs_review
    assert server.paths == ["/v1/completions"] * 2
    request = server.requests[0]
    assert request["prompt"].endswith("- [요약]") and "제목: Sparse experts" in request["prompt"]
    assert "\n\n" in request["stop"] and len(request["stop"]) <= 4
    assert "messages" not in request and "response_format" not in request
    assert meter.items["i0"].prompt_tokens == 120 and meter.items["i1"].completion_tokens == 40
    assert meter.to_json(price_per_1k_tokens=0.5)["cost"] == 0.16  # 320 tokens


def test_a_served_adapter_means_the_tuned_prompt_on_the_completion_endpoint(
    server: ChatServer, tmp_path: Path
) -> None:
    cfg = config(tmp_path, server.url, adapter="builtin")
    assert style(cfg) == "mixed"  # what our adapters write
    summarizer = make_summarizer(cfg)
    assert "+lora-" in summarizer.model_id and summarizer.model_id.endswith("+completion")
    summarizer.summarize(items(1))
    prompt = server.requests[0]["prompt"]
    assert server.paths == ["/v1/completions"]
    assert prompt == tuned_prompt("Sparse experts 0", items(1)[0].summary)  # no examples
    chat = make_summarizer(config(tmp_path, server.url, adapter="builtin", api="chat"))
    assert not chat.model_id.endswith("+completion")  # `api` wins over the rule


def test_a_refused_json_schema_is_asked_again_without_one(
    server: ChatServer, tmp_path: Path
) -> None:
    server.script = [(422, {}, b'{"detail": "response_format: unknown type json_schema"}')]
    briefs = make_summarizer(config(tmp_path, server.url, concurrency=1)).summarize(items(3))
    assert [b.summary for b in briefs] == [ANSWER["summary"]] * 3
    assert "response_format" in server.requests[0]
    assert all("response_format" not in r for r in server.requests[1:])  # the rest of the run
    assert len(server.requests) == 4


def test_a_refusal_stops_the_queued_requests(server: ChatServer, tmp_path: Path) -> None:
    server.delay = 0.1
    server.script = [(401, {}, b'{"error": "bad key"}')] * 20
    started = time.monotonic()
    with pytest.raises(SummarizerServerError, match="api_key_env"):
        make_summarizer(config(tmp_path, server.url, concurrency=2)).summarize(items(8))
    assert len(server.requests) < 8  # not one refusal per queued item
    assert time.monotonic() - started < 5


def test_usage_without_counts_still_counts_requests_and_time(
    server: ChatServer, tmp_path: Path
) -> None:
    with metered() as meter:
        make_summarizer(config(tmp_path, server.url)).summarize(items(1))
    used = meter.items["i0"]
    assert (used.requests, used.tokens) == (1, 0) and used.seconds > 0
