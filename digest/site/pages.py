"""Every page of the site, with the key of its inputs and how to render it.

| page | made from |
| --- | --- |
| `index.html` | the latest issue in full, the recent ones listed |
| `issues/0042/index.html` | one issue, its neighbours' titles |
| `archive/index.html` | every issue's number, date, title and item count, by year and month |
| `keywords/index.html`, `keywords/<slug>/index.html` | the 키워드 of every issue |
| `glossary/index.html` | every 토막상식 note and where it appeared |
| `sections/index.html`, `sections/<id>/index.html` | each section's items across issues |
| `unsubscribe/index.html` | how to stop the email and what happens then (`subscription.py`) |
| `feed.xml`, `sitemap.xml`, `robots.txt`, `404.html` | feed of recent issues, every page |

Links are relative (`root` is `../../` on an issue page) so the site works from `file://` and
from a sub-path; only the feed, the sitemap and the 404 page (served at any depth) use the
absolute `site.url`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial
from importlib import resources
from zoneinfo import ZoneInfo

from jinja2 import Environment

import digest
from digest.config import Config
from digest.issue import Issue
from digest.site import korean, search, subscription
from digest.site import model as site_model
from digest.site.cache import SourceIssue
from digest.site.manifest import fingerprint, hash_bytes, hash_tree
from digest.templates import template_dirs
from digest.text import shorten

Context = Mapping[str, object] | Callable[[], Mapping[str, object]]
# Bump when the page plan changes in a way templates cannot show (new context, new pages).
PLAN_VERSION = 4
FEED_ISSUES = 20
DESCRIPTION_CHARS = 150


@dataclass(frozen=True)
class Page:
    """One output file: its path, the key of its inputs (an unchanged key is not rendered
    again) and the function that renders its text."""

    path: str  # relative to the site root, e.g. "issues/0042/index.html"
    key: str  # fingerprint of everything the page is made from
    render: Callable[[], str]


@dataclass(frozen=True)
class SitePlan:
    """Every page of a build, and the settings key (templates, site settings, code version)
    whose change makes every page stale."""

    settings: str
    pages: list[Page]


def plan(config: Config, shown: list[SourceIssue], env: Environment) -> SitePlan:
    """Every page of the site for the issues `shown` (oldest first), each with its key and a
    lazy renderer on `env`; nothing is rendered here. The table in the module docstring lists
    the pages; `sitemap.xml` is planned only with a `site.url`."""
    site_url = config.site.url.rstrip("/") + "/" if config.site.url else ""
    links = subscription.subscription(config)  # the footer of every page links these
    settings = fingerprint(
        PLAN_VERSION,
        digest.__version__,
        hash_tree(template_dirs(config)),
        config.title,
        config.timezone,
        site_url,
        config.site.recent,
        [(s.id, s.title) for s in config.sections],
        links,
    )
    issues = [s.issue for s in shown]
    digests = {s.issue.number: s.digest for s in shown}
    brief = [
        (i.number, i.title, i.date.isoformat(), len(i.items), digests[i.number]) for i in issues
    ]
    brief_of = {b[0]: b for b in brief}
    keywords = site_model.keywords(issues)
    sections = site_model.sections(issues, [(s.id, s.title) for s in config.sections])
    nav = {"sections": [(s.title, s.href) for s in sections], "has_keywords": bool(keywords)}
    common: dict[str, object] = {
        "site_url": site_url,
        "nav": nav,
        "issue_url": site_model.issue_url,
        "keyword_href": site_model.keyword_href,
        "subscribe": links.subscribe,
        "item_anchor": site_model.item_anchor,
        "korean_date": site_model.korean_date,
        "initial": site_model.initial,
        "description": partial(description, config.title),
        "korean_datetime": site_model.korean_datetime,
    }
    nav_key = fingerprint(nav)
    pages: list[Page] = []

    def add(path: str, template: str, key: object, context: Context) -> None:
        """`context` may be a function: pages that are not re-rendered never compute it."""
        base = {**common, "root": "../" * path.count("/"), "page_path": path}
        full = partial(_context, base, context)
        pages.append(
            Page(path, fingerprint(template, nav_key, key), partial(_render, env, template, full))
        )

    for n, issue in enumerate(issues):
        before = issues[n - 1] if n > 0 else None
        after = issues[n + 1] if n + 1 < len(issues) else None
        add(
            f"{site_model.issue_url(issue)}index.html",
            "issue.html.j2",
            (
                brief[n],
                brief[n - 1] if before else None,
                brief[n + 1] if after else None,
                _keyword_slugs(issue),  # a glossary edit can move a keyword to another page
            ),
            {"issue": issue, "previous": before, "next": after},
        )
    recent = list(reversed(issues))[: config.site.recent]
    add(
        "index.html",
        "index.html.j2",
        ([b for b in brief[-config.site.recent :]], _keyword_slugs(*issues[-1:])),
        {"latest": issues[-1] if issues else None, "recent": recent},
    )
    add(
        "archive/index.html",
        "archive.html.j2",
        brief,
        lambda: {"years": site_model.archive(issues)},
    )
    for keyword in keywords.values():
        add(
            f"{keyword.path}index.html",
            "keyword.html.j2",
            (
                keyword.name,
                keyword.subtitle,
                keyword.other_names,
                [brief_of[i.number][:4] for i in keyword.issues],
            ),
            {"keyword": keyword},
        )
    add(
        "keywords/index.html",
        "keywords.html.j2",
        [(k.name, k.subtitle, k.slug, len(k.issues)) for k in keywords.values()],
        {"keywords": list(keywords.values())},
    )
    add(
        "glossary/index.html",
        "glossary.html.j2",
        (_glossary_key(issues, digests), hash_bytes(glossary_source())),
        lambda: {"entries": site_model.glossary(issues)},
    )
    for section in sections:
        add(
            f"{section.path}index.html",
            "section.html.j2",
            (section.id, section.title, [(i.number, digests[i.number]) for i, _ in section.issues]),
            {"section": section},
        )
    add(
        "sections/index.html",
        "sections.html.j2",
        [(s.id, s.title, s.item_count, len(s.issues)) for s in sections],
        {"sections": sections},
    )
    feed = list(reversed(issues))[:FEED_ISSUES]
    published = {i.number: updated_at(i, config.timezone) for i in feed}
    updated = {i.number: revised_at(i, config.timezone) for i in feed}
    add(
        "feed.xml",
        "feed.xml.j2",
        ([digests[i.number] for i in feed], _keyword_slugs(*feed)),
        {
            "issues": feed,
            "published": published,
            "updated": updated,
            # RFC 4287: the feed changed when its latest entry did (a correction included)
            "feed_updated": max(updated.values(), key=_instant, default=EPOCH),
            "feed_id": partial(feed_id, config.title, site_url),
        },
    )
    index_files = search.chunks(issues)
    nouns = korean.load_nouns(template_dirs(config))
    language = fingerprint(sorted(nouns), korean.PARTICLES, hash_bytes(glossary_source()))
    for name, part in index_files.items():
        index_key = [digests[i.number] for i in part]
        pages.append(
            Page(name, fingerprint(index_key, language), partial(search.build_index, part, nouns))
        )
    add("search/index.html", "search.html.j2", list(index_files), {"index_files": index_files})
    add("search.js", "search.js.j2", language, {"lang": search.language(nouns)})
    add("404.html", "404.html.j2", site_url, {"root": site_url})
    add("unsubscribe/index.html", "unsubscribe.html.j2", links, {"links": links})
    sitemap = [p.path for p in pages if p.path != "404.html" and p.path.endswith(".html")]
    add("robots.txt", "robots.txt.j2", site_url, {})
    if site_url:
        add(
            "sitemap.xml",
            "sitemap.xml.j2",
            (sitemap, [b[2] for b in brief]),
            {"locations": [_location(site_url, p) for p in sitemap]},
        )
    return SitePlan(settings, pages)


def _keyword_slugs(*issues: Issue) -> list[str]:
    """Where the issues' keyword links point (a glossary term's page for any of its names)."""
    return [site_model.keyword_slug(k) for issue in issues for k in issue.keywords]


def _context(base: Mapping[str, object], context: Context) -> Mapping[str, object]:
    return {**base, **(context() if callable(context) else context)}


def _render(env: Environment, template: str, context: Callable[[], Mapping[str, object]]) -> str:
    return env.get_template(template).render(**context())


def glossary_source() -> bytes:
    """The term base's bytes: an edited glossary.yaml re-renders the 토막상식 page."""
    return resources.files("digest").joinpath("data/glossary.yaml").read_bytes()


def _glossary_key(issues: list[Issue], digests: Mapping[int, str]) -> object:
    # Only issues with a 토막상식 matter; their file hash covers the note and the item's anchor.
    return [
        (i.number, i.title, digests[i.number])
        for i in issues
        if any(x.glossary_note for x in i.items)
    ]


def _location(site_url: str, path: str) -> str:
    from urllib.parse import quote

    folder = path.removesuffix("index.html")
    return site_url + quote(folder, safe="/-_.~")


def description(site_title: str, issue: Issue) -> str:
    """The meta description: the issue's item titles, cut at a word within 150 characters
    (graphemes: never inside a Hangul syllable or an emoji, digest/text.py)."""
    titles = " · ".join(item.title for item in issue.items)
    text = f"{issue.title}: {titles}" if titles else f"{issue.title}: {site_title}"
    return shorten(" ".join(text.split()), DESCRIPTION_CHARS, at_word=True)


def updated_at(issue: Issue, timezone: str) -> str:
    """RFC 3339 for the feed: the publication time, or the issue's morning in its timezone."""
    if issue.published_at:
        try:
            moment = datetime.fromisoformat(issue.published_at)
        except ValueError:
            pass  # an editor's hand-written value: fall back to the date
        else:  # RFC 3339 needs an offset: a time written without one is the newsletter's
            zone = moment.tzinfo or ZoneInfo(timezone)
            return moment.replace(tzinfo=zone).isoformat()
    return datetime.combine(issue.date, time(7, 0), ZoneInfo(timezone)).isoformat()


EPOCH = "1970-01-01T00:00:00+00:00"


def revised_at(issue: Issue, timezone: str) -> str:
    """RFC 3339 for the feed's `updated`: the latest published correction (`corrections:`
    {at, what}) when there is one after the publication, else the publication time, so a
    correction reaches feed readers (RFC 4287 4.2.15)."""
    latest = updated_at(issue, timezone)
    for correction in issue.corrections:
        try:
            at = datetime.fromisoformat(correction.at)
        except ValueError:
            continue  # a hand-written time that is not ISO 8601: shown on the page, not here
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(timezone))
        if at > datetime.fromisoformat(latest):
            latest = at.isoformat()
    return latest


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def feed_id(site_title: str, site_url: str, path: str) -> str:
    """Atom ids must be permanent URIs; without a site url, a name-based UUID stands in."""
    if site_url:
        return site_url + path
    return uuid.uuid5(uuid.NAMESPACE_URL, f"digest:{site_title}/{path}").urn
