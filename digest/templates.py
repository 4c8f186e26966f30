"""One Jinja environment and one Markdown configuration, shared by the website and the email.

What reaches a page is sorted by who wrote it (docs/site.md):

- **text from a source** — an item's title, the key sentence quoted from it, a summary an
  extractive brief copied from it — is plain text: escaped, never Markdown, so a feed's
  `![](https://tracker…)` or `[notice](https://phish…)` shows as the characters it is. The only
  link an item gets from its source is its own title link (`safe_url`).
- **what the summarizer and the editor wrote** (요약, 의의, 토막상식, 한마디) is Markdown rendered
  by markdown-it-py with raw HTML off, links only to http(s) and no images (`md`); the editor's
  own lines (한마디 and the free lines under an item) may show an image (`editor_md`).

Every href an issue file can set goes through `safe_url`: http(s) only, whatever the file says.
The user's templates folder (feeds.yaml's `templates_dir`) comes before the bundled `templates/`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from digest.config import Config
from digest.issue import IssueItem

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The summarizer that copies sentences from the source: its 요약 is the source's own text.
EXTRACTIVE_MODEL = "extractive"
QUOTED_REASON = "model brief rejected"  # a model's brief replaced by the extractive one


def safe_url(url: object) -> str:
    """`url` when it is an absolute http(s) URL with a host and no whitespace or control
    characters, else "" (the templates then leave the link out). Whatever an issue file says,
    no `javascript:`, `data:` or relative href reaches a page."""
    text = str(url or "").strip()
    if not text or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return text


def _validate_link(url: str) -> bool:
    return bool(safe_url(url))


def markdown(*, images: bool = True) -> MarkdownIt:
    """A CommonMark parser with raw HTML off, links only to http(s) (and, with `images`
    false, images off: a remote image in a brief would be a tracking pixel). The one place
    Markdown is configured."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.validateLink = _validate_link  # type: ignore[method-assign]
    return parser if images else parser.disable("image")


_brief_markdown = markdown(images=False)
_editor_markdown = markdown(images=True)
# Text with none of these characters has no inline Markdown (no emphasis, code, link, autolink,
# entity, escape or line break), so escaping it gives exactly what markdown-it would: most
# Korean briefs take this path, which makes a 1,000-issue build several times faster.
_INLINE_SYNTAX = frozenset("\\`*_[]<&!~\n\r")


@lru_cache(maxsize=65536)
def markdown_inline(text: str) -> Markup:
    """`text` (one line of inline Markdown by the summarizer or the editor) as safe HTML:
    raw HTML off, http(s) links only, no images."""
    if _INLINE_SYNTAX.isdisjoint(text):
        return Markup(escapeHtml(text))
    return Markup(_brief_markdown.renderInline(text))


@lru_cache(maxsize=8192)
def editor_markdown_inline(text: str) -> Markup:
    """The editor's own line (한마디, free lines): as `markdown_inline`, and images allowed —
    the editor chose them."""
    if _INLINE_SYNTAX.isdisjoint(text):
        return Markup(escapeHtml(text))
    return Markup(_editor_markdown.renderInline(text))


def quoted_from_source(item: IssueItem, field: str) -> bool:
    """Whether `field` of `item` is the source's own text rather than something written for
    the newsletter: the key sentence always; the 요약 when the extractive summarizer made the
    brief (it copies the source's lead sentence), itself or as the fallback for a rejected
    model brief."""
    if field == "key_sentence":
        return True
    if field != "summary":
        return False
    return item.model == EXTRACTIVE_MODEL or any(
        r.startswith(QUOTED_REASON) for r in item.review_reasons
    )


def template_env(config: Config) -> Environment:
    """User templates (feeds.yaml's templates_dir) first, then the bundled ones; autoescaped,
    undefined names an error; filters `md` (the summarizer's Markdown), `editor_md` (the
    editor's), `safe_url` (http(s) hrefs only) and the global `quoted_from_source`."""
    env = Environment(
        loader=FileSystemLoader([str(p) for p in template_dirs(config)]),
        autoescape=select_autoescape(["html", "j2", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_inline
    env.filters["editor_md"] = editor_markdown_inline
    env.filters["safe_url"] = safe_url
    env.globals["quoted_from_source"] = quoted_from_source
    env.globals["site_title"] = config.title
    return env


def template_dirs(config: Config) -> list[Path]:
    """The template folders that exist, the user's first."""
    return [p for p in (config.path(config.templates_dir), BUNDLED_TEMPLATES) if p.is_dir()]
