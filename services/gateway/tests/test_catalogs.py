"""The pages' catalogs are complete: every string the pages show is in messages.pot, and every
language translates every one of them (all plural forms, same placeholders, nothing fuzzy).

When this fails after a change to a page: run `scripts/catalogs.sh`, translate what it added to
each `.po` (empty `msgstr`), and commit the catalogs.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from services.gateway.web import i18n

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def ids(catalog):
    return {message.id for message in catalog if message.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "N_", "--no-location", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as handle:
        return read_po(handle)


def test_the_template_holds_every_string_the_pages_show(extracted):
    with open(i18n.TRANSLATIONS / "messages.pot", "rb") as handle:
        kept = read_po(handle)
    missing = ids(extracted) - ids(kept)
    assert not missing, f"strings not in messages.pot (run scripts/catalogs.sh): {sorted(missing)[:20]}"


@pytest.mark.parametrize("lang", sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT}))
def test_every_language_translates_every_string(extracted, lang):
    with open(i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=lang)
    untranslated, wrong_placeholders = [], []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id)
        forms = () if found is None else (found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not forms or not all(forms) \
                or (isinstance(message.id, tuple) and len(forms) != catalog.num_plurals):
            untranslated.append(message.id)
            continue
        wanted = set(PLACEHOLDER.findall(message.id[-1] if isinstance(message.id, tuple) else message.id))
        if any(set(PLACEHOLDER.findall(form)) != wanted for form in forms):
            # Plural forms for one (or zero) may spell the number out instead of %(num)s.
            if not (isinstance(message.id, tuple) and all(set(PLACEHOLDER.findall(f)) <= wanted for f in forms)):
                wrong_placeholders.append(message.id)
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated, e.g. {untranslated[:10]}"
    assert not wrong_placeholders, f"{lang}: placeholders differ in {wrong_placeholders[:10]}"


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_each_language_is_compiled_and_served(lang):
    """`./dev` compiles the catalogs; a language without its .mo fails loudly, not in English."""
    translated = i18n.translations(lang).gettext("Find requests")
    assert (translated == "Find requests") == (lang == i18n.DEFAULT)
