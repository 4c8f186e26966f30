"""`site/` from published issues: Jinja templates, Markdown through markdown-it-py (raw HTML
off), incremental by a manifest of inputs, and an atomic swap so the folder on disk is always
one complete build.

A build plans every page with the key of its inputs (`pages.plan`), starts the new folder
as hard links to the current site, renders only pages whose key changed, and swaps it in.

The build never follows a link it did not make. A symbolic link found in the site (planted by
a deploy job or another user of a shared web root) is not copied into the new build: it is
removed from the staging tree, reported (a warning, and `BuildResult.ignored_links`), and the
pages under it are rendered again as real files. Files are created with O_EXCL | O_NOFOLLOW
in folders the build made, so no write, unlink or rename lands outside the site.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from digest import __version__
from digest.config import Config
from digest.site.cache import load_issues
from digest.site.manifest import Manifest
from digest.site.pages import Page, plan
from digest.templates import BUNDLED_TEMPLATES, template_env

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """What `build_site` did: the site folder, its page and issue counts, and how many pages
    this build rendered (`current`: none, the site was already up to date)."""

    output: Path
    pages: int  # pages in the site
    issues: int
    rendered: int = 0  # pages rendered by this build; the rest were unchanged and kept
    current: bool = False  # nothing the site is made from changed: not built at all
    ignored_links: tuple[str, ...] = ()  # symbolic links found in the site, left out of it


def build_site(config: Config, *, include_drafts: bool = False, full: bool = False) -> BuildResult:
    """Build `site.output` from the published issues (drafts too with `include_drafts`):
    render into a hidden sibling folder, then swap it in whole, so the folder on disk is always
    one complete build. Only pages whose inputs changed are rendered unless `full`; when
    nothing the site is made from changed (`inputs_fingerprint`), nothing is built and the
    result says `current`. Returns the output path and the page, issue and rendered counts.

    Raises IssueFileError for an issue file that cannot be parsed, jinja2's TemplateError for
    a broken template and OSError from the disk (`runs.stage` turns the last into a
    DigestError in `digest daily`); on any failure the previous build stays in place and the
    staging folder is removed."""
    # A build allocates hundreds of thousands of objects (unpickled issues, template output)
    # and frees them at the end; the cycle collector's passes over them in between cost about
    # a third of an incremental build, so it is paused for the build and resumed after.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _build(config, include_drafts=include_drafts, full=full)
    finally:
        if paused:
            gc.enable()


def inputs_fingerprint(config: Config, include_drafts: bool) -> str:
    """What the site is made from, by name, size and modification time: the issue files,
    templates, feeds.yaml's settings and this version. Cheap (no file is read), so an
    unchanged site is known without loading a single issue."""
    digest = hashlib.sha256(f"{__version__}|{include_drafts}".encode())
    digest.update(config.model_dump_json().encode())
    folders = [config.issues_path, config.path(config.templates_dir), BUNDLED_TEMPLATES]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _build(config: Config, *, include_drafts: bool, full: bool) -> BuildResult:
    output = config.site_path
    output.parent.mkdir(parents=True, exist_ok=True)
    _recover(output)
    # The inputs as they are before the build: an issue edited meanwhile triggers a rebuild.
    inputs = inputs_fingerprint(config, include_drafts)
    previous = None if full else Manifest.read(output)
    if previous and previous.inputs == inputs and (output / "index.html").is_file():
        return BuildResult(output, len(previous.pages), previous.issues, current=True)
    staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.building-"))
    linking = None
    ignored: list[str] = []
    try:
        # Linking the current tree is disk work (a mkdir per page folder) and reading the
        # issues and rendering are CPU work: they overlap, the linking in a `cp` process.
        linking = _start_linking(output, staging) if previous else None
        shown = load_issues(config, include_drafts=include_drafts)
        site = plan(config, shown, template_env(config))
        current = {page.path for page in site.pages}

        def linked() -> None:
            if previous is not None:
                _finish_linking(linking, output, staging)
                ignored.extend(_drop_links(staging))
                _remove_stale(staging, set(previous.pages) - current)

        kept = previous
        if kept is not None and kept.settings != site.settings:
            kept = None  # templates, settings or code changed: every page may differ
        manifest = Manifest(site.settings, inputs=inputs, issues=len(shown))
        todo = []
        real = _RealFiles(output)
        for page in site.pages:
            manifest.pages[page.path] = page.key
            unchanged = kept is not None and kept.pages.get(page.path) == page.key
            # The staging tree will hold exactly the live site's regular files once linked
            # (a page reached through a link is not kept: the link is dropped).
            if not (unchanged and real.has(page.path)):
                todo.append(page)
        _render_pages(todo, staging, linked)
        rendered = len(todo)
        _copy_static(config, staging)
        manifest.write(staging)
        _swap_into_place(staging, output, pages=len(site.pages))
    except BaseException:
        if linking is not None and linking.poll() is None:
            linking.kill()  # a template error while `cp` still links: stop it, then clean up
            linking.wait()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(output, len(site.pages), len(shown), rendered, ignored_links=tuple(ignored))


class _RealFiles:
    """Which pages of the live site are regular files reached through real folders only: an
    unchanged page is kept only then (lstat, never following a link)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folders: dict[str, bool] = {"": True}

    def _folder(self, rel: str) -> bool:
        if rel not in self.folders:
            parent, _, _ = rel.rpartition("/")
            self.folders[rel] = self._folder(parent) and _is_kind(self.root / rel, stat.S_ISDIR)
        return self.folders[rel]

    def has(self, rel: str) -> bool:
        parent, _, _ = rel.rpartition("/")
        return self._folder(parent) and _is_kind(self.root / rel, stat.S_ISREG)


def _is_kind(path: Path, kind: Callable[[int], bool]) -> bool:
    try:
        return kind(os.lstat(path).st_mode)
    except OSError:
        return False


def _drop_links(tree: Path) -> list[str]:
    """Remove every symbolic link from `tree` (the staging copy of the live site, which `cp -a`
    copied links into as links), without following any; returns them as `path -> target`,
    each also logged as a warning."""
    found = []
    for folder, dirs, files in os.walk(tree):  # never descends into a linked folder
        for name in dirs + files:
            path = Path(folder) / name
            if os.path.islink(path):
                target = os.readlink(path)
                found.append(f"{path.relative_to(tree)} -> {target}")
                path.unlink()
    for link in found:
        log.warning(
            "site: ignored the symbolic link %s — the build never writes through a link it "
            "did not make; the page is rendered as a file instead",
            link,
        )
    return found


def _render_pages(todo: list[Page], staging: Path, linked: Callable[[], None]) -> None:
    """Render while `cp` links the current tree, holding pages in memory (up to a budget)
    until `linked()` says the tree is complete; then write them and the rest."""
    # A second process was tried: on a busy two-core machine it gained nothing (the build is
    # as much disk as Jinja), so pages render in order, in this process.
    held: list[tuple[Path, str]] | None = []
    size = 0
    for page in todo:
        text = page.render()
        if held is not None and size + len(text) <= RENDER_AHEAD_CHARS:
            held.append((staging / page.path, text))
            size += len(text)
            continue
        if held is not None:
            _write_held(held, linked)
            held = None
        _write_new(staging / page.path, text)
    if held is not None:
        _write_held(held, linked)


# One new issue renders about 3 MB of pages; a full re-render stops holding at this size.
RENDER_AHEAD_CHARS = 16_000_000


def _write_held(held: list[tuple[Path, str]], linked: Callable[[], None]) -> None:
    linked()
    for path, text in held:
        _write_new(path, text)


def _write_new(path: Path, text: str) -> None:
    """Write a fresh file: the staging tree shares inodes with the live site, so a file is
    unlinked first, never overwritten in place (that would change the live site too)."""
    _write_bytes_new(path, text.encode("utf-8"))


def _start_linking(source: Path, target: Path) -> subprocess.Popen[bytes] | None:
    """`cp -al` links the current tree into the new one. A thread doing the same in Python
    took three times as long: every os.link waits for the GIL the page planning holds."""
    cp = shutil.which("cp")
    if cp is None or sys.platform != "linux":  # GNU cp's flags; elsewhere, Python links
        return None
    return subprocess.Popen(
        [cp, "-al", "--", f"{source}/.", str(target)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _finish_linking(linking: subprocess.Popen[bytes] | None, source: Path, target: Path) -> None:
    if linking is not None and linking.wait() == 0:
        return
    # No cp, or it failed (a filesystem without hard links): start over in Python, which
    # copies what it cannot link.
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    _link_tree(source, target)


def _link_tree(source: Path, target: Path) -> None:
    """Start the new build as hard links to the current one: instant, and no disk copy."""
    for folder, dirs, files in os.walk(source):  # a linked folder is listed, never entered
        rel = Path(folder).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in dirs:
            if os.path.islink(Path(folder) / name):
                os.symlink(os.readlink(Path(folder) / name), target / rel / name)
        for name in files:
            if os.path.islink(Path(folder) / name):
                os.symlink(os.readlink(Path(folder) / name), target / rel / name)
                continue  # copied as the link it is, as `cp -a` does: _drop_links reports it
            try:
                os.link(Path(folder) / name, target / rel / name)
            except OSError:  # a filesystem without hard links: copy instead
                shutil.copy2(Path(folder) / name, target / rel / name)


def _remove_stale(staging: Path, paths: set[str]) -> None:
    """Pages the last build made and this one does not (a removed issue or keyword)."""
    for path in sorted(paths):
        page = staging / path
        page.unlink(missing_ok=True)  # no links are left in staging (_drop_links)
        folder = page.parent
        while folder != staging and _is_kind(folder, stat.S_ISDIR) and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _copy_static(config: Config, staging: Path) -> None:
    for base in (BUNDLED_TEMPLATES, config.path(config.templates_dir)):
        static = base / "static"
        if not static.is_dir():
            continue
        for path in static.rglob("*"):
            if path.is_file():
                _write_bytes_new(staging / path.relative_to(static), path.read_bytes())


# Created, never opened: O_EXCL fails on anything already there (a link included) and
# O_NOFOLLOW refuses a link as the last component.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _write_bytes_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, _CREATE, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _swap_into_place(staging: Path, output: Path, *, pages: int) -> None:
    """Replace `output` with the finished build. On Linux the two folders trade places in one
    step (renameat2 RENAME_EXCHANGE), so there is never a moment without a site; elsewhere two
    renames leave a gap of microseconds, and a crash inside it is repaired by the next build
    (`_recover`)."""
    os.chmod(staging, 0o755)
    for leftover in output.parent.glob(f".{output.name}.old-*"):
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            _remove(leftover, later=True)  # a retired build a killed process left behind
    for leftover in output.parent.glob(f".removing-*-{output.name}.*"):
        # a detached removal killed before it finished, or still at work: a second rmtree
        # beside it is harmless (both ignore what the other removed)
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            _spawn_rmtree(leftover)
    if not os.path.lexists(output):
        os.replace(staging, output)
        return
    if exchange(staging, output):
        _remove(staging, later=pages > DEFER_REMOVAL_PAGES)  # it holds the old build now
        return
    retired = output.with_name(f".{output.name}.old-{os.getpid()}")
    os.replace(output, retired)
    os.replace(staging, output)
    _remove(retired, later=pages > DEFER_REMOVAL_PAGES)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where the
    system or the filesystem cannot (then the caller renames twice). Raises OSError for any
    other failure (a missing path, no permission)."""
    if sys.platform != "linux":
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # a C library without it (glibc before 2.28, musl)
        return False
    at_cwd, rename_exchange = -100, 2  # AT_FDCWD and RENAME_EXCHANGE from <fcntl.h>
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _recover(output: Path) -> None:
    """A crash between the two renames of the fallback swap leaves no `output`, only its
    retired copy: put the newest one back (by modification time, not by the pid in its
    name) before anything else. Only real folders count, never a link; a tree a detached
    cleanup is removing has been renamed out of the `.old-` names first (`_remove`)."""
    if os.path.lexists(output):
        return
    retired = []
    for path in output.parent.glob(f".{output.name}.old-*"):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue  # removed meanwhile
        if stat.S_ISDIR(info.st_mode):
            retired.append((info.st_mtime_ns, path.name, path))
        else:
            log.warning("site: ignored %s — not a folder the build made", path)
    if retired:
        os.replace(max(retired)[2], output)


# Removing a retired tree of thousands of folders costs seconds of rmdir on a busy disk, and
# the new site is already in place by then: past this size a detached process removes it, so
# `digest build` returns as soon as the swap is done.
DEFER_REMOVAL_PAGES = 500


def _remove(folder: Path, *, later: bool) -> None:
    """Remove a retired or staging tree (shutil.rmtree never follows a link). A detached
    removal first renames the tree out of the names `_recover` looks at, so a later build can
    never bring back a tree that is half deleted."""
    if not later:
        shutil.rmtree(folder, ignore_errors=True)
        return
    doomed = folder.with_name(f".removing-{os.getpid()}-{folder.name.lstrip('.')}")
    try:
        os.replace(folder, doomed)
    except OSError:
        doomed = folder  # a name it cannot take: remove it where it is
    _spawn_rmtree(doomed)


def _spawn_rmtree(folder: Path) -> None:
    code = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"
    subprocess.Popen(
        [sys.executable, "-c", code, str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the build and ignores its Ctrl-C
    )
