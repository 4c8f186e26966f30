"""The HTML part as a reader sees it: headless Chromium at phone width, light and dark.

Needs Debian's chromium (`apt-get install -y chromium fonts-noto-cjk`) and the `playwright`
package; never a downloaded browser. `UPDATE_SCREENSHOTS=1` refreshes docs/email-phone.png."""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_email_message import READER, make_config, parts, thirty_item_issue

from digest import newsletter

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
FIGURE = "https://img.example/routing-figure.png"
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "email-phone.png"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="render check needs Debian's chromium at /usr/bin/chromium: "
    "apt-get install -y chromium fonts-noto-cjk",
)


def png(width: int, height: int) -> bytes:
    """A small chart-like picture: the feed's figure, served by the test instead of the web."""
    rows = b""
    for y in range(height):
        row = bytearray()
        for x in range(width):
            bar = (x // 60) % 2 == 0 and y > height - (x % 300)
            row += bytes((40, 110, 200) if bar else (232, 238, 247))
        rows += b"\x00" + bytes(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, html: str, scheme: str = "light") -> Any:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, color_scheme=scheme)
    figure = png(600, 300)

    def route(request_route: Any) -> None:
        # Offline: the feed's figure comes from here; anything else is refused.
        if request_route.request.url == FIGURE:
            request_route.fulfill(status=200, content_type="image/png", body=figure)
        else:
            request_route.abort()

    page.route("**/*", route)
    page.set_content(html, wait_until="load")
    return page


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    issue = thirty_item_issue()
    issue.items[0].note = "이번 주 가장 눈여겨볼 논문. 그림 1이 핵심을 한눈에 보여줌."
    images = {issue.items[0].id: newsletter.Image(FIGURE, "그림 1: 구간 요약 토큰의 흐름")}
    config = make_config(tmp_path_factory.mktemp("render"))
    _, body = parts(newsletter.Composer(config, issue, images).message(READER))
    return body


def test_fits_a_phone_and_shows_the_feed_image(browser: Any, html: str, tmp_path: Path) -> None:
    page = open_page(browser, html)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        image = page.evaluate(
            "(() => { const i = document.querySelector('img');"
            " return [i.naturalWidth, i.getBoundingClientRect().width, i.alt]; })()"
        )
        assert image[0] == 600 and image[1] <= PHONE["width"] - 30
        assert image[2] == "그림 1: 구간 요약 토큰의 흐름"
        font_size = page.evaluate("getComputedStyle(document.querySelector('.f')).fontSize")
        assert font_size == "16px"  # readable without zooming
        shot = tmp_path / "email-phone.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000  # a page with text on it, not a blank
        if os.environ.get("UPDATE_SCREENSHOTS"):
            shutil.copyfile(shot, SCREENSHOT)
    finally:
        page.close()


def test_looks_the_same_without_any_style_block(browser: Any, html: str) -> None:
    """What Gmail does to <style>: the light rendering must not change at all."""
    stripped = re.sub(r"<style[^>]*>.*?</style>", "", html, flags=re.S)
    assert "<style" not in re.sub(r"<!--\[if mso\]>.*?<!\[endif\]-->", "", stripped, flags=re.S)
    shots = []
    for document in (html, stripped):
        page = open_page(browser, document)
        shots.append(page.screenshot(full_page=True))
        page.close()
    assert shots[0] == shots[1]


def test_dark_mode_turns_the_page_dark_with_light_text(browser: Any, html: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = open_page(browser, html, scheme)
        colours[scheme] = page.evaluate(
            "(() => { const s = getComputedStyle(document.querySelector('.wrap'));"
            " return [s.backgroundColor, s.color]; })()"
        )
        page.close()
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(32, 33, 36)"]
    assert colours["dark"] == ["rgb(23, 24, 26)", "rgb(232, 234, 237)"]
