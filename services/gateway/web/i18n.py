"""The pages' languages: which ones, their direction, their catalogs, and locale-aware formatting.

Catalogs are gettext `.po` files under `translations/` (kept in the repository), compiled to
`.mo` at install (`pybabel compile`, run by `./dev` and the Dockerfile). Country and language
names, dates and numbers come from Babel's CLDR data, so they need no catalog of ours.
"""
import functools
from datetime import datetime
from pathlib import Path

from babel import Locale, dates, lists, numbers, support

from services.common.taxonomy import COUNTRIES, SKILLS
from services.common.taxonomy import LANGUAGES as LANGUAGE_CODES

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
# Language -> writing direction. Persian and Arabic are laid out right to left.
LANGUAGES = {"en": "ltr", "fa": "rtl", "ar": "rtl", "ru": "ltr", "zh": "ltr"}
# Languages whose own digits are not the Latin ones (CLDR's default numbering systems).
NATIVE_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"), "ar": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")}
# Each language named in itself, for the language switcher.
ENDONYMS = {"en": "English", "fa": "فارسی", "ar": "العربية", "ru": "Русский", "zh": "中文"}


def N_(text):
    """Marks a string for extraction without translating it where it is defined."""
    return text


# The skill taxonomy's labels, marked for the catalogs (the slugs stay the contract).
SKILL_LABELS = {
    "press": N_("Press and journalism"),
    "legal": N_("Legal advice and representation"),
    "translation": N_("Translation and interpreting"),
    "tech": N_("Technology and software"),
    "digital-security": N_("Digital security"),
    "pr": N_("Public relations and campaigns"),
    "policy": N_("Policy and advocacy with lawmakers"),
    "art": N_("Art, music and video"),
    "writing": N_("Writing and editing"),
    "counseling": N_("Counseling and emotional support"),
    "research": N_("Research and documentation"),
    "fundraising": N_("Fundraising"),
    "medical": N_("Medical advice"),
}
assert SKILL_LABELS.keys() == SKILLS.keys(), "every skill needs a label in the catalogs"


# The words for the contract's enumerations, by kind then value (the values stay the contract).
LABELS = {
    "urgency": {"low": N_("Low urgency"), "normal": N_("Normal urgency"), "high": N_("High urgency"),
                "critical": N_("Critical: someone is in danger now")},
    "visibility": {"public": N_("Public: anyone can read it"),
                   "volunteers": N_("Volunteers: only volunteers a moderator verified can read it"),
                   "private": N_("Private: only the helper you choose reads the text")},
    "status": {"open": N_("Open"), "matched": N_("A helper is chosen"), "fulfilled": N_("Fulfilled"),
               "closed": N_("Closed"), "withdrawn": N_("Withdrawn")},
    "match": {"proposed": N_("Waiting for the volunteer's answer"), "accepted": N_("Said yes; waiting for the author"),
              "confirmed": N_("Chosen: the conversation is open"), "rejected": N_("The author chose another way"),
              "declined": N_("Declined"), "expired": N_("Expired without an answer"), "withdrawn": N_("Withdrawn"),
              "ended": N_("Ended: the helper's access has ended")},
    "role": {"activist": N_("I need help (activist, family, organizer)"),
             "volunteer": N_("I can help (volunteer)"), "moderator": N_("Moderator"), "analyst": N_("Analyst")},
    "outcome": {"fulfilled": N_("Fulfilled: I got the help I needed"), "withdrawn": N_("Withdrawn: I no longer need it")},
    "email": {"instant": N_("An email at once, saying only: sign in"), "daily": N_("One email a day at most"),
              "off": N_("No email: I will look in the inbox here")},
    "notification": {
        "match_proposed": N_("A request fits your skills. Open it to accept or decline."),
        "match_accepted": N_("A volunteer offers to help with your request. Open it to see who they are, "
                             "then confirm or decline."),
        "match_confirmed": N_("The author of a request chose you to help. You can now send each other messages."),
        "match_rejected": N_("The author of a request you offered to help with chose another way. "
                             "Thank you for offering."),
        "match_ended": N_("Your access to a request you were helping with has ended, and so has its conversation. "
                          "Thank you for your help."),
        "match_expiring": N_("A request you were proposed for is waiting for your answer and will expire soon."),
        "request_hidden": N_("A moderator hid one of your requests. Others no longer see it."),
    },
    "prisoner_status": {"detained": N_("Detained"), "disappeared": N_("Disappeared: held where nobody is told"),
                        "charged": N_("Charged"), "tried": N_("On trial"), "sentenced": N_("Sentenced"),
                        "transferred": N_("Transferred"), "hunger_strike": N_("On hunger strike"),
                        "released": N_("Released"), "exiled": N_("Exiled")},
    "timeline_kind": {"detained": N_("Detained"), "disappeared": N_("Disappeared"), "charged": N_("Charged"),
                      "tried": N_("Tried"), "sentenced": N_("Sentenced"), "transferred": N_("Transferred"),
                      "hunger_strike": N_("Hunger strike"), "appeal": N_("Appeal"),
                      "visit_denied": N_("Visits denied"), "health": N_("Health"), "released": N_("Released"),
                      "exiled": N_("Exiled"), "other": N_("Other")},
    "pledge_kind": {"press": N_("An article or a broadcast"), "policy": N_("A question to lawmakers or a government"),
                    "legal": N_("Legal help"), "letter": N_("Letters"), "other": N_("Something else")},
    "campaign_mode": {"public": N_("Public: listed, anyone can find it"),
                      "quiet": N_("Quiet: only people with the link reach it"),
                      "paused": N_("Paused: hidden from everyone but its owners")},
    "owner_action": {"created": N_("Started the campaign"), "edited": N_("Changed its text"),
                     "paused": N_("Paused it"), "resumed": N_("Resumed it"), "made_quiet": N_("Made it quiet"),
                     "made_public": N_("Made it public"), "status_proposed": N_("Proposed a new status"),
                     "status_confirmed": N_("Confirmed the status"), "consent_changed": N_("Changed who sees what"),
                     "invited": N_("Made a code for a co-owner"), "revoked_invitation": N_("Revoked a code"),
                     "joined": N_("Joined as a co-owner"), "removed": N_("Removed a co-owner"),
                     "left": N_("Left the campaign"), "asked": N_("Posted an ask"),
                     "asked_translation": N_("Asked for a translation")},
    "consent": {"public": N_("Everyone"), "verified": N_("Verified volunteers only"),
                "owners": N_("Only the campaign's owners")},
    "delivery": {"handed_over": N_("Handed over"), "delivered": N_("Delivered"), "returned": N_("Returned"),
                 "confiscated": N_("Confiscated")},
    "prisoner_field": {"name": N_("Name"), "prison": N_("Prison"), "charges": N_("Charges"),
                       "family_names": N_("Family members' names")},
    "origin": {"matching": N_("Proposed by the platform"), "offer": N_("Offered by the volunteer"),
               "invitation": N_("Invited by you")},
    "report": {"requests": N_("Requests"), "response-times": N_("Hours to the first proposal (median)"),
               "campaigns": N_("Campaigns for prisoners of conscience"),
               "skill": N_("by skill"), "country": N_("by country"), "month": N_("by month"),
               "status": N_("by the prisoner's status")},
}


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
