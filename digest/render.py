"""`site/` from published issues: Jinja templates, Markdown through markdown-it-py (raw HTML
off), and an atomic swap so the folder on disk is always a complete build."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from digest import issue as issues
from digest.config import Config
from digest.issue import Issue

BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Raw HTML off: nothing from a feed or a model can inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown_inline(text: str) -> Markup:
    return Markup(_markdown.renderInline(text))


def template_env(config: Config) -> Environment:
    """User templates (feeds.yaml's templates_dir) first, then the bundled ones."""
    search = [p for p in (config.path(config.templates_dir), BUNDLED_TEMPLATES) if p.is_dir()]
    env = Environment(
        loader=FileSystemLoader([str(p) for p in search]),
        autoescape=select_autoescape(["html", "j2", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_inline
    env.globals["site_title"] = config.title
    return env


@dataclass(frozen=True)
class BuildResult:
    output: Path
    pages: int
    issues: int


def issue_url(issue: Issue) -> str:
    return f"issues/{issue.number:04d}/"


def build_site(config: Config, *, include_drafts: bool = False) -> BuildResult:
    all_issues = issues.load_all(config.issues_path)
    shown = [i for i in all_issues if i.status == "published" or include_drafts]
    shown.sort(key=lambda i: (i.number, i.date))
    env = template_env(config)
    output = config.site_path
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.building-"))
    pages = 0
    try:
        for index, current in enumerate(shown):
            context = {
                "issue": current,
                "root": "../../",
                "previous": shown[index - 1] if index > 0 else None,
                "next": shown[index + 1] if index + 1 < len(shown) else None,
                "issue_url": issue_url,
            }
            _write(staging / issue_url(current) / "index.html", env, "issue.html.j2", context)
            pages += 1
        latest = shown[-1] if shown else None
        home = {
            "latest": latest,
            "recent": list(reversed(shown))[: config.site.recent],
            "root": "",
            "issue_url": issue_url,
        }
        _write(staging / "index.html", env, "index.html.j2", home)
        pages += 1
        _copy_static(config, staging)
        _swap_into_place(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(output, pages, len(shown))


def _write(path: Path, env: Environment, template: str, context: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(env.get_template(template).render(**context), encoding="utf-8")


def _copy_static(config: Config, staging: Path) -> None:
    for base in (BUNDLED_TEMPLATES, config.path(config.templates_dir)):
        static = base / "static"
        if static.is_dir():
            shutil.copytree(static, staging, dirs_exist_ok=True)


def _swap_into_place(staging: Path, output: Path) -> None:
    """Replace `output` with the finished build; a crash leaves the old or the new, whole."""
    os.chmod(staging, 0o755)
    if not output.exists():
        os.replace(staging, output)
        return
    retired = output.with_name(f".{output.name}.old-{os.getpid()}")
    os.replace(output, retired)
    os.replace(staging, output)
    shutil.rmtree(retired, ignore_errors=True)
