"""The website: `site/` rendered from published issues.

| module | what it holds |
| --- | --- |
| `build.py` | `build_site`: plan, render what changed, swap the new folder in whole |
| `pages.py` | every page with the key of its inputs and how to render it |
| `model.py` | what pages show: anchors, keywords, glossary entries, section listings |
| `cache.py` | parsed issue files kept between builds; `load_issues` |
| `manifest.py` | the page keys of the last build, inside `site/` |
| `search.py` | the in-browser search index |
| `slug.py` | keyword page names |
"""

from digest.site.build import BuildResult, build_site

__all__ = ["BuildResult", "build_site"]
