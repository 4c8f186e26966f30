"""feeds.yaml → a validated `Config`. Errors name the file, the line and the fix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from digest.encoding import decode_text, header_url, link_url, parse_mailbox, site_url, unsafe_text
from digest.errors import ConfigError
from digest.registry import BACKENDS, FETCHERS

DEFAULT_CONFIG_NAME = "feeds.yaml"
# The day's top posts; Reddit's own "hot" mixes in days-old threads.
REDDIT_LISTING = "https://www.reddit.com/r/{}/top.json?t=day&limit=50"


def _one_of(value: str, registry: Mapping[str, object], what: str) -> str:
    if value not in registry:
        names = list(registry)
        known = ", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r}"
        raise ValueError(f"unknown {what} {value!r}; use one of: {known}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """One source of a section (`sections[].sources[]`): its `id` (lower-case, unique),
    `type` (a key of `registry.FETCHERS`: rss, arxiv, reddit) and `url`, plus fields that only
    some types read (arXiv `query`/`mode`/`window_days`, Reddit `subreddit`/`min_score`, and
    `min_relevance` for mixed feeds), each explained where it is declared. A `subreddit`
    without a `url` stands for that subreddit's top posts of the day (`REDDIT_LISTING`).
    Frozen; unknown keys are refused."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: str  # a key of fetch.FETCHERS: rss, arxiv, reddit
    url: str
    name: str = ""
    # arXiv: the search query (e.g. "cat:cs.LG OR cat:cs.AI") and how many results to ask for.
    query: str = ""
    max_results: int = Field(default=50, ge=1, le=2000)
    # arXiv: "api" asks the search API (query:); "rss" reads rss.arxiv.org/rss/<cats> at url:.
    mode: Literal["api", "rss"] = "api"
    # arXiv api: how many days back the query reaches (submittedDate); null = select.window_days.
    window_days: int | None = Field(default=None, ge=1)
    # Reddit: the subreddit (url: is then derived), and posts under this score are not news.
    # Fetch keeps every post; selection applies min_score, so a new threshold judges them again.
    subreddit: str = Field(default="", pattern=r"^[A-Za-z0-9_]*$")
    min_score: int = 0
    # Reddit asks for "<platform>:<app id>:<version> (by /u/<user>)"; "" = digest's own.
    user_agent: str = ""
    # Reddit OAuth (client credentials, used when DIGEST_REDDIT_CLIENT_ID/SECRET are set).
    token_url: str = "https://www.reddit.com/api/v1/access_token"
    # Mixed feeds (a personal blog with film reviews): an item must match interests summing to
    # at least this weight to be news. 0 = every item of this source is eligible.
    min_relevance: float = Field(default=0.0, ge=0)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _one_of(value, FETCHERS, "source type")

    @model_validator(mode="before")
    @classmethod
    def _subreddit_url(cls, data: Any) -> Any:
        """`subreddit: MachineLearning` stands for its day's top posts as JSON."""
        if isinstance(data, dict) and data.get("subreddit") and not data.get("url"):
            return {**data, "url": REDDIT_LISTING.format(data["subreddit"])}
        return data


class SectionConfig(_Strict):
    """One section of the issue, in the newsletter's order: `id` (the `<!-- section: id -->`
    mark in issue files), `title` (its `##` heading), `max_items` (selection's cap, 0-100; the
    rest are reserves) and `sources` (`[]`: only `digest review add --section ID` fills it)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    max_items: int = Field(default=5, ge=0, le=100)
    sources: list[SourceConfig] = Field(default_factory=list)


class SummarizerConfig(_Strict):
    """How briefs are written (`summarizer:`): the `backend` (a key of `registry.BACKENDS`),
    then the settings each backend reads, explained where declared. The model (with its
    adapter), `prompt_version` and the style in force make the brief cache key, so changing one
    writes new briefs. docs/summarizer.md describes every key."""

    backend: str = "extractive"  # a key of summarize.BACKENDS: extractive, transformers, openai

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return _one_of(value, BACKENDS, "summarizer backend")

    # transformers: a Hugging Face model id or a local folder ("" = the embedded Gemma 3 270M);
    # openai: the model name the server knows.
    model: str = ""
    prompt_version: str = "1"
    # How a brief is written. "mixed": a Korean 음슴체 sentence frame with the technical terms
    # copied in English from the source (what the embedded model's adapter writes: a 270M model
    # invents Korean for terms it must translate). "korean": terms as 한국어(English), for
    # capable models. "auto": mixed for the embedded model, korean for any other.
    style: Literal["auto", "mixed", "korean"] = "auto"
    # transformers: a PEFT LoRA adapter merged into the model when it loads (no cost per token).
    # "auto": the bundled adapter for the embedded model, none for other models; "builtin",
    # "none", or a folder made by `digest train` (relative to feeds.yaml).
    adapter: str = "auto"
    # transformers: where and how the model runs. "auto" picks cuda when there is one.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # CPU threads for torch; 0 lets torch decide (all cores). The cron box is shared, so 2.
    threads: int = Field(default=2, ge=0, le=256)
    max_new_tokens: int = Field(default=160, ge=16, le=2048)
    # transformers: compute the output layer only for tokens a Korean brief uses (Hangul,
    # ASCII, common punctuation): Gemma's 262k-token vocabulary makes that layer a third of
    # every decoding step, and the model can no longer drift into other scripts.
    korean_vocab: bool = True
    # transformers: grounded decoding. While the model writes, an English word or a number can
    # only be one the title or source has: a copied term, not an invented one.
    grounded: bool = True
    # Items generated together: on a CPU a batch of 8 gives ~3x the tokens per second of one.
    batch_size: int = Field(default=8, ge=1, le=128)
    # openai: an OpenAI-compatible server; the key is read from the environment variable named
    # here, never from this file. api: chat, completion (our prompt format), or auto: completion
    # when `adapter` names the adapter merged into the served model, else chat.
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key_env: str = "DIGEST_OPENAI_API_KEY"
    api: Literal["auto", "chat", "completion"] = "auto"
    concurrency: int = Field(default=4, ge=1, le=64)
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    retries: int = Field(default=3, ge=0, le=10)
    price_per_1k_tokens: float = Field(default=0.0, ge=0)  # the run record's cost; 0: none


class SelectConfig(_Strict):
    """What makes a stored item news (`select:`): the date window in days before the issue
    date (None keeps everything), the ranking weights of interests and cross-mentions, and
    whether Reddit threads ride along with the item they link. Read by `select.select`."""

    # Items older than this many days before the issue date are not news; null keeps everything
    # (the bundled sample uses null because its captures span several years).
    window_days: int | None = Field(default=3, ge=1)
    # Ranking weights: each interest's weight counts this much; each other source that mentions
    # or links an item adds cross_mention; arXiv announce types rank new > cross > replace.
    interest_weight: float = Field(default=1.0, ge=0)
    cross_mention: float = Field(default=1.5, ge=0)
    # Reddit posts that link something chosen in the issue ride along as its discussion.
    group_discussions: bool = True


class SiteConfig(_Strict):
    """The website (`site:`): its public `url` ("" = none; email links to the web version need
    it), the `output` folder `digest build` writes (relative to feeds.yaml) and how many
    `recent` issues the home page lists (at least 1)."""

    url: Annotated[str, AfterValidator(site_url)] = ""
    output: str = "site"
    recent: int = Field(default=10, ge=1)


class EmailConfig(_Strict):
    """The email (`email:`): sender (`from`, read into `from_`), the subscribers CSV and the
    Reply-To, the dry-run `outbox` folder, the HTML size budget in bytes (Gmail clips beyond
    ~102 KB), the subscribe and List-Unsubscribe URLs, relay pacing and retries. SMTP host and
    credentials are not here: they come from the environment only (`Secrets`). docs/email.md
    describes every key."""

    from_: str = Field(default="", alias="from")
    subscribers: str = ""
    reply_to: str = ""
    outbox: str = "outbox"
    # Gmail clips an HTML part over ~102 KB (and hides the unsubscribe link with it); 100,000
    # bytes of decoded UTF-8 leaves room for what a relay adds.
    max_html_bytes: int = Field(default=100_000, ge=10_000)
    # Over the budget, items after this many are shortened to title + one line + a web link.
    max_full_items: int = Field(default=15, ge=0)
    # List-Unsubscribe URL of a service that unsubscribes (it gets RFC 8058's one-click POST);
    # "{email}" is replaced by the recipient. Empty: unsubscribing is by mail (mailto: only).
    unsubscribe_url: str = ""
    # 구독하기 on every page and email (a form, a page or a mailto:); "": mail to reply_to/from.
    subscribe_url: Annotated[str, AfterValidator(link_url)] = ""
    # A small relay is not flooded: a pause between messages, and a fresh connection (after
    # batch_pause_seconds) every batch_size messages.
    pause_seconds: float = Field(default=0.0, ge=0, le=60)
    batch_size: int = Field(default=50, ge=1)
    batch_pause_seconds: float = Field(default=0.0, ge=0, le=3600)
    # Transient failures (4xx, dropped connections) are retried this many times per recipient,
    # waiting retry_delay_seconds × attempt; permanent ones (5xx) never are.
    retries: int = Field(default=3, ge=0, le=10)
    retry_delay_seconds: float = Field(default=5.0, ge=0, le=300)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("from_", "reply_to")
    @classmethod
    def _mailbox(cls, value: str) -> str:
        """Checked at load, so a bad value stops no send: stored as `Name <address>` with the
        address's domain in punycode."""
        if not value.strip():
            return ""
        try:
            name, address = parse_mailbox(value)
        except ValueError as exc:
            raise ValueError(
                f"{exc} — write it as 편집 <editor@example.org>: a Korean name goes before the "
                "<address>, a Korean domain (뉴랄.한국) after its @"
            ) from None
        return f"{name} <{address}>" if name else address

    @field_validator("unsubscribe_url")
    @classmethod
    def _header_url(cls, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return header_url(value)
        except ValueError as exc:
            raise ValueError(
                f"{exc} — use the https:// address of a service that unsubscribes, with {{email}} "
                "for the address, or leave it empty to take unsubscribes by mail"
            ) from None


class Config(_Strict):
    """The whole of feeds.yaml, validated and frozen: the newsletter's `title`, its `timezone`
    (an IANA name; "today" and every issue date are taken there), the summarizer, selection,
    interests (keyword → weight), sections with their sources, site and email settings,
    `auto_publish`/`publish_empty`, and the issues, state and templates folders. Made by
    `load_config`, which also sets `base_dir` (feeds.yaml's folder): relative paths resolve
    against it (`path`). No two sections share an id, nor do two sources."""

    # In the Subject and the From name of every email, so one line of at most 200 characters.
    title: str = Field(default="뉴랄브리핑", min_length=1, max_length=200)
    timezone: str = "Asia/Seoul"
    summarizer: SummarizerConfig = SummarizerConfig()
    select: SelectConfig = SelectConfig()
    # What the editor cares about: keyword or phrase → weight, matched case-insensitively on
    # title and summary, e.g. {강화학습: 2, "reinforcement learning": 2}.
    interests: dict[str, float] = Field(default_factory=dict)
    sections: list[SectionConfig] = Field(min_length=1)
    site: SiteConfig = SiteConfig()
    email: EmailConfig = EmailConfig()
    auto_publish: bool = False
    # A day with no new items makes no issue (daily exits 3) unless this is true.
    publish_empty: bool = False
    issues_dir: str = "issues"
    state_dir: str = ".digest"
    templates_dir: str = "templates"

    # Filled by load_config, not by the user: the folder feeds.yaml lives in.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        problem = "has a line break or a control character" if unsafe_text(value) else ""
        if problem or not value.strip():
            raise ValueError(f"it {problem or 'is empty'} — write the name on one line")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
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
        if not any(section.sources for section in sections):
            raise ValueError("no section has a source — give at least one section a sources: list")
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
        """The folder of issue files (`issues_dir`, resolved)."""
        return self.path(self.issues_dir)

    @property
    def state_path(self) -> Path:
        """The state folder (`state_dir`, resolved): the database, lock and run records."""
        return self.path(self.state_dir)

    @property
    def site_path(self) -> Path:
        """The folder the site is built into (`site.output`, resolved)."""
        return self.path(self.site.output)

    @property
    def sources(self) -> list[tuple[SectionConfig, SourceConfig]]:
        """Every (section, source) pair, in feeds.yaml's order."""
        return [(section, source) for section in self.sections for source in section.sources]

    def section(self, section_id: str) -> SectionConfig:
        """The section with id `section_id`. Raises ConfigError, listing the known ids, when
        feeds.yaml has none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise ConfigError(f"no section {section_id!r} in feeds.yaml; known: {self.section_ids}")

    @property
    def section_ids(self) -> list[str]:
        """The section ids, in feeds.yaml's order."""
        return [s.id for s in self.sections]


# Environment variables that override feeds.yaml (flags override these in the CLI).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "DIGEST_SUMMARIZER_BACKEND": ("summarizer", "backend"),
    "DIGEST_SUMMARIZER_MODEL": ("summarizer", "model"),
    "DIGEST_SITE_URL": ("site", "url"),
    "DIGEST_SITE_OUTPUT": ("site", "output"),
    "DIGEST_AUTO_PUBLISH": ("auto_publish",),
}


# the environment -----------------------------------------------------------------------------
# Only this module reads it: overrides of feeds.yaml (ENV_OVERRIDES, DIGEST_CONFIG) and Secrets.
@dataclass(frozen=True)
class Secrets:
    """What comes from the environment only, never from feeds.yaml: SMTP (DIGEST_SMTP_HOST,
    _PORT, _USER, _PASSWORD, _STARTTLS, _SSL), Reddit's app (DIGEST_REDDIT_CLIENT_ID, _SECRET,
    _USER_AGENT), API keys by the variable name feeds.yaml gives, $EDITOR/$VISUAL and the
    pinned clock DIGEST_NOW. Passwords and keys never show in a repr."""

    smtp_host: str = ""
    smtp_port: str = ""
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    reddit_client_id: str = ""
    reddit_client_secret: str = field(default="", repr=False)
    reddit_user_agent: str = ""
    editor: str = ""  # $EDITOR, else $VISUAL
    now: str = ""  # DIGEST_NOW (ISO 8601): the clock pinned for tests and reproducible builds
    _values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Secrets:
        """A snapshot of `env` (default: the process environment). Raises ConfigError when
        DIGEST_NOW is set to something that is not an ISO 8601 time."""
        values = dict(os.environ if env is None else env)

        def flag(name: str) -> bool:
            return values.get(name, "").strip().lower() in ("1", "true", "yes", "on")

        now = values.get("DIGEST_NOW", "").strip()
        if now:
            try:
                datetime.fromisoformat(now)
            except ValueError:
                raise ConfigError(
                    f"DIGEST_NOW={now!r} is not an ISO 8601 time — use e.g. "
                    "2026-11-23T07:00:00+09:00, or unset DIGEST_NOW"
                ) from None
        return cls(
            smtp_host=values.get("DIGEST_SMTP_HOST", ""),
            smtp_port=values.get("DIGEST_SMTP_PORT", ""),
            smtp_user=values.get("DIGEST_SMTP_USER", ""),
            smtp_password=values.get("DIGEST_SMTP_PASSWORD", ""),
            smtp_starttls=flag("DIGEST_SMTP_STARTTLS"),
            smtp_ssl=flag("DIGEST_SMTP_SSL"),
            reddit_client_id=values.get("DIGEST_REDDIT_CLIENT_ID", ""),
            reddit_client_secret=values.get("DIGEST_REDDIT_CLIENT_SECRET", ""),
            reddit_user_agent=values.get("DIGEST_REDDIT_USER_AGENT", ""),
            editor=(values.get("EDITOR", "").strip() or values.get("VISUAL", "").strip()),
            now=now,
            _values=values,
        )

    def api_key(self, variable: str) -> str:
        """The key held by the variable feeds.yaml names (`summarizer.api_key_env`); "" if none."""
        return self._values.get(variable, "") if variable else ""


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    """The feeds.yaml to use: `explicit` (--config) if given, else $DIGEST_CONFIG, else
    feeds.yaml in the current folder. The path is returned as given, not resolved. Raises
    ConfigError naming the fix (--config PATH, DIGEST_CONFIG or `digest init`) when that file
    does not exist."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file — pass --config PATH or run `digest init`")
        return path
    env = os.environ.get("DIGEST_CONFIG")
    if env:
        if not Path(env).is_file():
            raise ConfigError(
                f"DIGEST_CONFIG={env}: no such file — fix or unset DIGEST_CONFIG, "
                "or pass --config PATH"
            )
        return Path(env)
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG_NAME} in {Path.cwd()} — run `digest init` here, "
            "or pass --config PATH"
        )
    return path


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate feeds.yaml (found by `find_config(path)`) into a `Config`.

    The DIGEST_* variables of `ENV_OVERRIDES` replace the file's values before validation
    (flags, applied later by the CLI, override both); `base_dir` is set to the file's folder.
    Raises ConfigError when the file is missing or unreadable, is not UTF-8 (or UTF-16 with a
    byte-order mark), is not valid YAML, is not a mapping, or fails validation: one line per
    problem, as `file:line: key: problem — fix` (or naming the environment variable when the
    value came from there)."""
    file = find_config(path)
    try:
        text = decode_text(file.read_bytes(), file)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it ({exc.strerror}) — check it") from None
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
        target: Any = data
        for key in keys[:-1]:
            if target.get(key) is None:  # `summarizer:` with nothing under it
                target[key] = {}
            target = target[key]
        if isinstance(target, dict):  # else feeds.yaml has a scalar there, and validation says so
            target[keys[-1]] = value


def _describe(exc: ValidationError, file: Path, root: yaml.Node | None) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(part) for part in loc) or "(top level)"
        # Our validators' ValueErrors are sentences, some with their fix after " — ".
        msg = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
        fix = "" if " — " in msg else f" — {_fix_for(error)}"
        var = next((v for v, keys in ENV_OVERRIDES.items() if keys == loc and v in os.environ), "")
        if var:  # the value came from the environment, not from the file
            lines.append(f"{var}: {where}: {msg}{fix}, or unset {var}")
            continue
        lines.append(f"{file}:{_line_of(root, loc)}: {where}: {msg}{fix}")
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
    if kind == "string_pattern_mismatch" and loc[-1] == "subreddit":
        return "write the name alone as in reddit.com/r/NAME: letters, digits and '_', no r/"
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
