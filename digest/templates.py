"""One Jinja environment and one Markdown configuration, shared by the website and the email.

Markdown is what the editor and the summarizer write; it is rendered by markdown-it-py with raw
HTML off, so nothing from a feed or a model can inject markup. The user's templates folder
(feeds.yaml's `templates_dir`) comes before the bundled `templates/`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from digest.config import Config

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def markdown(*, images: bool = True) -> MarkdownIt:
    """A CommonMark parser with raw HTML off (and, for email, images off: a remote image in a
    brief would be a tracking pixel). The one place Markdown is configured."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return parser if images else parser.disable("image")


_site_markdown = markdown()
# Text with none of these characters has no inline Markdown (no emphasis, code, link, autolink,
# entity, escape or line break), so escaping it gives exactly what markdown-it would: most
# Korean briefs take this path, which makes a 1,000-issue build several times faster.
_INLINE_SYNTAX = frozenset("\\`*_[]<&!~\n\r")


@lru_cache(maxsize=65536)
def markdown_inline(text: str) -> Markup:
    """`text` (one line of inline Markdown) as safe HTML."""
    if _INLINE_SYNTAX.isdisjoint(text):
        return Markup(escapeHtml(text))
    return Markup(_site_markdown.renderInline(text))


def template_env(config: Config) -> Environment:
    """User templates (feeds.yaml's templates_dir) first, then the bundled ones; autoescaped,
    undefined names an error, `md` the inline Markdown filter."""
    env = Environment(
        loader=FileSystemLoader([str(p) for p in template_dirs(config)]),
        autoescape=select_autoescape(["html", "j2", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_inline
    env.globals["site_title"] = config.title
    return env


def template_dirs(config: Config) -> list[Path]:
    """The template folders that exist, the user's first."""
    return [p for p in (config.path(config.templates_dir), BUNDLED_TEMPLATES) if p.is_dir()]
