"""Translation lookup for every visible string in cnnlab.

Catalogs are TOML files in ``cnnlab/locales/``, one per area of the app. Each key is a
table holding the text in every supported language, so both languages sit side by side::

    [lab.start]
    en = "Start"
    zh = "开始"

Keys are namespaced by their file name: ``lab.toml`` may only define keys that start with
``lab.``. A missing key or language raises ``KeyError``; the lookup never falls back to
the key, so a gap fails the tests instead of reaching the screen.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

LANGUAGES = ("zh", "en")  # the switch shows them in this order
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}

LOCALES_DIR = Path(__file__).parent / "locales"


class CatalogError(ValueError):
    """A catalog file is malformed: a key without every language, or in the wrong file."""


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, str]]:
    """Turn nested TOML tables into {"a.b.c": {"en": ..., "zh": ...}}."""
    entries: dict[str, dict[str, str]] = {}
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, dict):
            raise CatalogError(f"{key!r} must be a table with one string per language")
        if any(isinstance(v, str) for v in value.values()):
            entries[key] = value
        else:
            entries.update(_flatten(value, key))
    return entries


@functools.cache
def load_catalog(locales_dir: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    """Load and check every ``*.toml`` catalog; return {key: {language: text}}."""
    catalog: dict[str, dict[str, str]] = {}
    for path in sorted(locales_dir.glob("*.toml")):
        with path.open("rb") as f:
            entries = _flatten(tomllib.load(f))
        for key, texts in entries.items():
            if not key.startswith(path.stem + "."):
                raise CatalogError(f"{path.name}: key {key!r} must start with {path.stem!r}.")
            if set(texts) != set(LANGUAGES):
                raise CatalogError(
                    f"{path.name}: key {key!r} has languages {sorted(texts)}, "
                    f"expected {sorted(LANGUAGES)}"
                )
            if key in catalog:
                raise CatalogError(f"{path.name}: key {key!r} is defined twice")
            catalog[key] = texts
    return catalog


def translate(key: str, lang: str, /, **values: Any) -> str:
    """Return the text of ``key`` in ``lang``, with ``{name}`` fields filled from ``values``.

    Raises ``KeyError`` for an unknown key or language.
    """
    texts = load_catalog()[key]
    text = texts[lang]
    return text.format(**values) if values else text


def normalize_language(tag: str | None) -> str | None:
    """Map a locale or ``?lang=`` value (``zh-CN``, ``zh_TW``, ``en-US``, ``en``) to a language.

    Returns ``None`` when the tag names no supported language.
    """
    if not tag:
        return None
    base = tag.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def pick_language(query_value: str | None, browser_locale: str | None) -> str:
    """Choose the language: the URL's ``?lang=`` wins, then the browser's locale."""
    return normalize_language(query_value) or normalize_language(browser_locale) or DEFAULT_LANGUAGE
