"""feeds.yaml → a validated `Config`. Errors name the file, the line and the fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digest.errors import ConfigError

DEFAULT_CONFIG_NAME = "feeds.yaml"
SOURCE_TYPES = ("rss", "arxiv", "reddit")
SUMMARIZER_BACKENDS = ("extractive", "transformers", "openai")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: Literal["rss", "arxiv", "reddit"]
    url: str
    name: str = ""
    # arXiv: the search query (e.g. "cat:cs.LG OR cat:cs.AI") and how many results to ask for.
    query: str = ""
    max_results: int = Field(default=50, ge=1, le=2000)
    # Reddit: posts under this score are not news.
    min_score: int = 0


class SectionConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    max_items: int = Field(default=5, ge=0, le=100)
    sources: list[SourceConfig] = Field(min_length=1)


class SummarizerConfig(_Strict):
    backend: Literal["extractive", "transformers", "openai"] = "extractive"
    model: str = ""
    prompt_version: str = "1"


class SelectConfig(_Strict):
    # Items older than this many days before the issue date are not news; null keeps everything
    # (the bundled sample uses null because its captures span several years).
    window_days: int | None = Field(default=3, ge=1)


class SiteConfig(_Strict):
    url: str = ""
    output: str = "site"
    recent: int = Field(default=10, ge=1)


class EmailConfig(_Strict):
    from_: str = Field(default="", alias="from")
    subscribers: str = ""
    reply_to: str = ""
    outbox: str = "outbox"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Config(_Strict):
    title: str = "뉴랄브리핑"
    timezone: str = "Asia/Seoul"
    summarizer: SummarizerConfig = SummarizerConfig()
    select: SelectConfig = SelectConfig()
    sections: list[SectionConfig] = Field(min_length=1)
    site: SiteConfig = SiteConfig()
    email: EmailConfig = EmailConfig()
    auto_publish: bool = False
    issues_dir: str = "issues"
    state_dir: str = ".digest"
    templates_dir: str = "templates"

    # Filled by load_config, not by the user: the folder feeds.yaml lives in.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Asia/Seoul"
            ) from None
        return value

    @field_validator("sections")
    @classmethod
    def _unique_ids(cls, sections: list[SectionConfig]) -> list[SectionConfig]:
        seen: set[str] = set()
        for section in sections:
            for ident in [section.id, *(f"source {s.id}" for s in section.sources)]:
                if ident in seen:
                    raise ValueError(f"{ident!r} appears twice; ids must be unique")
                seen.add(ident)
        return sections

    def path(self, value: str) -> Path:
        """Paths in feeds.yaml resolve relative to the file (Pelican's rule)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def source_url(self, source: SourceConfig) -> str:
        """A url without a scheme is a file path relative to feeds.yaml (the bundled sample)."""
        if "://" in source.url:
            return source.url
        return self.path(source.url).resolve().as_uri()

    @property
    def issues_path(self) -> Path:
        return self.path(self.issues_dir)

    @property
    def state_path(self) -> Path:
        return self.path(self.state_dir)

    @property
    def site_path(self) -> Path:
        return self.path(self.site.output)

    @property
    def sources(self) -> list[tuple[SectionConfig, SourceConfig]]:
        return [(section, source) for section in self.sections for source in section.sources]

    def section(self, section_id: str) -> SectionConfig:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise ConfigError(f"no section {section_id!r} in feeds.yaml; known: {self.section_ids}")

    @property
    def section_ids(self) -> list[str]:
        return [s.id for s in self.sections]


# Environment variables that override feeds.yaml (flags override these in the CLI).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "DIGEST_SUMMARIZER_BACKEND": ("summarizer", "backend"),
    "DIGEST_SUMMARIZER_MODEL": ("summarizer", "model"),
    "DIGEST_SITE_URL": ("site", "url"),
    "DIGEST_SITE_OUTPUT": ("site", "output"),
    "DIGEST_AUTO_PUBLISH": ("auto_publish",),
}


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file — pass --config PATH or run `digest init`")
        return path
    env = os.environ.get("DIGEST_CONFIG")
    if env:
        return find_config(env)
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG_NAME} in {Path.cwd()} — run `digest init` here, "
            "or pass --config PATH"
        )
    return path


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    file = find_config(path)
    text = file.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{file}{line}: not valid YAML ({problem}) — fix the syntax there"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: expected a mapping of settings (title:, sections:, …)")
    _apply_env(data)
    try:
        config = Config.model_validate({**data, "base_dir": file.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file, root)) from None
    return config


def _apply_env(data: dict[str, Any]) -> None:
    for var, keys in ENV_OVERRIDES.items():
        value: Any = os.environ.get(var)
        if value is None:
            continue
        if keys == ("auto_publish",):
            value = value.lower() in ("1", "true", "yes", "on")
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value


def _describe(exc: ValidationError, file: Path, root: yaml.Node | None) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line_of(root, loc)
        where = ".".join(str(part) for part in loc) or "(top level)"
        lines.append(f"{file}:{line}: {where}: {error['msg']} — {_fix_for(error)}")
    return "\n".join(lines)


def _fix_for(error: Any) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        return "remove it or check its spelling against docs/configuration.md"
    if kind == "missing":
        return f"add {loc[-1]}: to this block"
    if kind == "literal_error":
        return f"use one of: {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits, '-' and '_'"
    return "see docs/configuration.md"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            key = "from" if part == "from_" else part
            for key_node, value_node in node.value:
                if key_node.value == key:
                    node, line = value_node, key_node.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
