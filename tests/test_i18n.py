import re
from pathlib import Path

import pytest

from cnnlab.i18n import (
    LANGUAGES,
    CatalogError,
    load_catalog,
    normalize_language,
    pick_language,
    translate,
)

ROOT = Path(__file__).resolve().parent.parent
# Literal keys passed to t("..."), term("...") and LocalizedError("...") in the code.
KEY_CALL = re.compile(
    r"""\b(?:t|LocalizedError|translate)\(\s*f?["']([a-z0-9_.\-]+)(["'{]\s*\+?)"""
)
TERM_CALL = re.compile(r"""\bterm\(\s*["']([a-z0-9_]+)["']""")


def source_files():
    for folder in ("app_pages", "ui", "cnnlab"):
        yield from (ROOT / folder).rglob("*.py")
    yield ROOT / "app.py"


def test_every_key_has_both_languages():
    catalog = load_catalog()
    assert catalog
    for key, texts in catalog.items():
        assert set(texts) == set(LANGUAGES), key
        for lang in LANGUAGES:
            assert texts[lang].strip(), f"{key} is empty in {lang}"


def test_placeholders_match_between_languages():
    field = re.compile(r"{(\w+)}")
    for key, texts in load_catalog().items():
        assert set(field.findall(texts["en"])) == set(field.findall(texts["zh"])), key


def test_literal_keys_in_code_exist():
    catalog = load_catalog()
    missing = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        for key, end in KEY_CALL.findall(text):
            if end.startswith("{") or end.endswith("+"):
                continue  # a prefix, as in t(f"lab.status.{status}"): the page tests check those
            if key not in catalog:
                missing.append(f"{path.relative_to(ROOT)}: {key}")
        for term_id in TERM_CALL.findall(text):
            if f"glossary.term.{term_id}" not in catalog:
                missing.append(f"{path.relative_to(ROOT)}: term {term_id}")
    assert missing == []


def test_unknown_key_raises():
    with pytest.raises(KeyError):
        translate("no.such.key", "en")


def test_unknown_language_raises():
    with pytest.raises(KeyError):
        translate("app.language", "fr")


def test_translate_fills_values():
    assert translate("lab.eta", "en", seconds="12") == "about 12 s left"
    assert translate("lab.eta", "zh", seconds="12") == "约剩 12 秒"


def test_catalog_rejects_missing_language(tmp_path):
    (tmp_path / "demo.toml").write_text('[demo.x]\nen = "only English"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="demo.x"):
        load_catalog.__wrapped__(tmp_path)


def test_catalog_rejects_foreign_prefix(tmp_path):
    (tmp_path / "demo.toml").write_text('[other.x]\nen = "a"\nzh = "b"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="must start with"):
        load_catalog.__wrapped__(tmp_path)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("en-US", "en"),
        ("EN", "en"),
        ("fr-FR", None),
        (None, None),
        ("", None),
    ],
)
def test_normalize_language(tag, expected):
    assert normalize_language(tag) == expected


def test_query_parameter_wins_over_locale():
    assert pick_language("zh", "en-US") == "zh"
    assert pick_language(None, "zh-CN") == "zh"
    assert pick_language("xx", "de-DE") == "en"
