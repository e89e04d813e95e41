"""The pages' languages: which ones, their direction, their catalogs, and locale-aware formatting.

Catalogs are gettext `.po` files under `translations/` (kept in the repository), compiled to
`.mo` at install (`pybabel compile`, run by `./dev` and the Dockerfile). Country and language
names, dates and numbers come from Babel's CLDR data, so they need no catalog of ours.
"""
import functools
from datetime import datetime
from pathlib import Path

from babel import Locale, dates, lists, numbers, support

from services.common.taxonomy import COUNTRIES
from services.common.taxonomy import LANGUAGES as LANGUAGE_CODES

from .messages import LABELS, SKILL_LABELS

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
# Language -> writing direction. Persian and Arabic are laid out right to left.
LANGUAGES = {"en": "ltr", "fa": "rtl", "ar": "rtl", "ru": "ltr", "zh": "ltr"}
# Languages whose own digits are not the Latin ones (CLDR's default numbering systems).
NATIVE_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"), "ar": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")}
# Each language named in itself, for the language switcher.
ENDONYMS = {"en": "English", "fa": "فارسی", "ar": "العربية", "ru": "Русский", "zh": "中文"}


@functools.lru_cache(maxsize=None)
def translations(lang):
    if lang == DEFAULT:
        return support.NullTranslations()
    found = support.Translations.load(str(TRANSLATIONS), [lang], domain="messages")
    if not isinstance(found, support.Translations):
        raise RuntimeError(f"No compiled catalog for {lang!r}: run `pybabel compile -d {TRANSLATIONS}`.")
    return found


def choose(asked, remembered):
    """The page's language: `?lang=` if it names one we have, else the cookie's, else English.
    (Not Accept-Language: Tor Browser always says en-US, and a guess is worse than a choice.)"""
    for lang in (asked, remembered):
        if lang in LANGUAGES:
            return lang
    return DEFAULT


class Formatter:
    """Names and numbers in the reader's language, for the templates."""

    def __init__(self, lang):
        self.lang = lang
        self.locale = Locale.parse(lang)
        self._ = translations(lang).gettext

    def country(self, code):
        return self.locale.territories.get(code, code) if code else ""

    def skill(self, slug):
        return self._(SKILL_LABELS[slug]) if slug in SKILL_LABELS else slug

    def label(self, kind, value):
        text = LABELS[kind].get(value)
        return self._(text) if text else value

    def choices(self, kind):
        """(value, label) of an enumeration, in the contract's order."""
        return [(value, self._(text)) for value, text in LABELS[kind].items()]

    def skill_choices(self):
        return sorted(((slug, self.skill(slug)) for slug in SKILL_LABELS), key=lambda item: item[1])

    def language(self, code):
        if isinstance(code, dict):  # a profile's {"code", "level"}
            code = code.get("code")
        return self.locale.languages.get(code, code) if code else ""

    def join(self, items, name=str):
        """A list as the reader's language writes one ("فارسی و انگلیسی", "Persian and English")."""
        items = [str(name(item)) for item in items if item]
        return lists.format_list(items, locale=self.locale) if items else ""

    def number(self, value):
        return self._digits(numbers.format_decimal(value, locale=self.locale, numbering_system="default"))

    def _digits(self, text):
        """The reader's own digits (Persian ۱۲۳, Arabic ١٢٣): Babel gives their separators but Latin digits."""
        return text.translate(NATIVE_DIGITS[self.lang]) if self.lang in NATIVE_DIGITS else text

    def date(self, value):
        if not value:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value).date()
        return self._digits(dates.format_date(value, "long", locale=self.locale))

    def datetime(self, value):
        if not value:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return self._digits(dates.format_datetime(value, "medium", locale=self.locale))

    def countries(self):
        """(code, name) of every country, sorted by name in the reader's language."""
        return _country_choices(self.lang)

    def language_choices(self):
        """(code, name) of every language: the ones SCENARIOS.md's people write first, then the rest
        sorted by name in the reader's language."""
        return _language_choices(self.lang)


# The pickers' lists: the same for every page in a language, so built once per language.
COMMON_LANGUAGES = ("fa", "ar", "ru", "zh", "en", "tr", "ku", "be", "uk", "fr", "es", "de", "az", "uz", "my", "bo", "ug")


@functools.lru_cache(maxsize=None)
def _country_choices(lang):
    names = Locale.parse(lang).territories
    return tuple(sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda item: item[1]))


@functools.lru_cache(maxsize=None)
def _language_choices(lang):
    names = Locale.parse(lang).languages
    rest = sorted(((code, names.get(code, code)) for code in LANGUAGE_CODES - set(COMMON_LANGUAGES)),
                  key=lambda item: item[1])
    return tuple([(code, names.get(code, code)) for code in COMMON_LANGUAGES] + rest)
