"""A real OpenAI-compatible server for tests: `transformers serve` (the `serving` extra: FastAPI
and uvicorn) on a free loopback port, serving a model folder offline. Started as a child
process, ready when `/health` answers (bounded wait), stopped at the end; its log counts the
requests it answered."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT_S = 120.0  # import of torch + transformers and a tiny model's load: ~6 s here
_ANSWERED = re.compile(r'"POST (/v1/\S+) HTTP/1\.1" 200')


def serving_installed() -> bool:
    """Whether `transformers serve` can run here (transformers with its `serving` extra)."""
    try:
        from transformers.utils.import_utils import is_serve_available
    except ImportError:
        return False
    return bool(is_serve_available())


class ModelServer:
    """`transformers serve MODEL` on 127.0.0.1:`port`, its output in `log`."""

    def __init__(self, model: Path, port: int, log: Path, *extra: str) -> None:
        self.model = model
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}/v1"
        executable = Path(sys.executable).parent / "transformers"
        command = [str(executable if executable.exists() else shutil.which("transformers"))]
        command += ["serve", str(model), "--host", "127.0.0.1", "--port", str(port)]
        command += ["--device", "cpu", *extra]
        # Offline: a local folder needs no hub, and a test must never reach one.
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        env["OMP_NUM_THREADS"] = "1"  # the test machine has two cores and a client to run
        env["PYTHONUNBUFFERED"] = "1"  # the access log is read while the server runs
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Seconds until `/health` answered 200. Raises RuntimeError with the log's tail when
        the server exits or is not ready within `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"transformers serve not ready in {timeout:g} s:\n{self.tail()}")

    def answered(self) -> list[str]:
        """The paths of the requests answered 200 so far, from the access log."""
        return _ANSWERED.findall(self.log.read_text(encoding="utf-8", errors="replace"))

    def models(self) -> list[str]:
        """The ids `/v1/models` lists."""
        with urllib.request.urlopen(f"{self.url}/models", timeout=5) as answer:
            return [m["id"] for m in json.load(answer)["data"]]

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s; idempotent."""
        if self.process.poll() is None:
            with _suppress_gone():
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with _suppress_gone():
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


class _suppress_gone:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, traceback: object) -> bool:
        return isinstance(value, ProcessLookupError)
