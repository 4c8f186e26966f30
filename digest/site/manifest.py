"""What the last build was made from, so the next one renders only the pages whose inputs changed.

Every page carries a key: a hash of everything it is made from (its issues' file bytes, the
neighbours it links to, the templates and the settings). The manifest maps each page to its key
and lives inside the built folder, so it is swapped in with the very pages it describes: the
manifest on disk can never be ahead of or behind the site.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_NAME = ".digest-build.json"
MANIFEST_VERSION = 2


def fingerprint(*parts: object) -> str:
    """A short stable hash of plain values (str, int, tuples and lists of them)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def hash_bytes(data: bytes) -> str:
    """A file's bytes as 32 hex digits (BLAKE2b, 16 bytes): the key of its parsed copy."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def hash_tree(folders: Iterable[Path]) -> str:
    """Names and contents of every file under the folders: a template edit re-renders all."""
    h = hashlib.blake2b(digest_size=16)
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass
class Manifest:
    """The last build's record, in `site/.digest-build.json`: the settings key, each page's
    key by output path, the stat fingerprint of the inputs and the issue count."""

    settings: str = ""  # templates + config + code version; a change invalidates every page
    pages: dict[str, str] = field(default_factory=dict)  # output path → key
    inputs: str = ""  # stat fingerprint of every input file (see build.inputs_fingerprint)
    issues: int = 0  # issues in the build

    @classmethod
    def read(cls, site: Path) -> Manifest | None:
        """The manifest of the site on disk, or None when there is none we can trust."""
        try:
            data = json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return None
        pages = data.get("pages")
        if not isinstance(pages, dict):
            return None
        return cls(
            str(data.get("settings", "")),
            {str(k): str(v) for k, v in pages.items()},
            str(data.get("inputs", "")),
            int(data.get("issues", 0) or 0),
        )

    def write(self, site: Path) -> None:
        data = {
            "version": MANIFEST_VERSION,
            "settings": self.settings,
            "pages": self.pages,
            "inputs": self.inputs,
            "issues": self.issues,
        }
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        path = site / MANIFEST_NAME
        path.unlink(missing_ok=True)  # a hard link to the live site's manifest: never write through
        path.write_text(text, encoding="utf-8")
