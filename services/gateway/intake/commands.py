"""What a person writes by SMS or email, as a command: plain words in the five page languages, no
I/O. Anything unclear is answered with help in the language it was written in, never a guess: a
wrong guess could post someone's private words as a need, or confirm the wrong helper.

    HELP                       what can be written (also: an empty or unknown message)
    NEED <skill> <text>        post a need; the skill by its number in HELP's list (the same in
                               every language) or its key (legal, translation...)
    OFFERS [need]              the helpers who said yes to a need (the latest, if none is named)
    CONFIRM <helper>           choose the helper numbered so in the last OFFERS
    YES <proposal> / NO <..>   a helper's answer to a proposal (numbered as told)
    READ [conversation]        the last lines of a conversation
    SAY [conversation] <text>  one line into it
    OK                         a check-in
    LINK <code>                link this number (or address) to an account made on the web
    STOP                       nothing more is sent here; the link is forgotten

Each word has its equivalent in Persian, Arabic, Russian and Chinese (WORDS). Digits may be
written in any of the scripts' digits.
"""
import re
import unicodedata
from collections import namedtuple

from services.common.taxonomy import SKILLS

Command = namedtuple("Command", "name lang number text")

HELP, NEED, OFFERS, CONFIRM, YES, NO, READ, SAY, CHECK_IN, LINK, STOP = (
    "help", "need", "offers", "confirm", "yes", "no", "read", "say", "check_in", "link", "stop")

# The first word of a message, by command and language. Short, plain, and what a person would
# type on a phone; each language's own words, not transliterations.
WORDS = {
    HELP: {"en": ("help", "?"), "fa": ("راهنما", "کمک"), "ar": ("مساعدة",), "ru": ("помощь", "справка"),
           "zh": ("帮助", "？")},
    NEED: {"en": ("need",), "fa": ("نیاز",), "ar": ("حاجة", "طلب"), "ru": ("нужно",), "zh": ("需要",)},
    OFFERS: {"en": ("offers",), "fa": ("پیشنهادها",), "ar": ("عروض",), "ru": ("отклики",), "zh": ("回应",)},
    CONFIRM: {"en": ("confirm",), "fa": ("تایید", "تأیید"), "ar": ("تأكيد", "تاكيد"), "ru": ("подтвердить",),
              "zh": ("确认",)},
    YES: {"en": ("yes",), "fa": ("بله",), "ar": ("نعم",), "ru": ("да",), "zh": ("是",)},
    NO: {"en": ("no",), "fa": ("نه",), "ar": ("لا",), "ru": ("нет",), "zh": ("否",)},
    READ: {"en": ("read",), "fa": ("خواندن",), "ar": ("اقرأ", "اقرا"), "ru": ("читать",), "zh": ("读",)},
    SAY: {"en": ("say",), "fa": ("بگو",), "ar": ("قل",), "ru": ("сказать",), "zh": ("说",)},
    CHECK_IN: {"en": ("ok",), "fa": ("خوبم",), "ar": ("بخير",), "ru": ("норм",), "zh": ("平安",)},
    LINK: {"en": ("link",), "fa": ("پیوند",), "ar": ("ربط",), "ru": ("связать",), "zh": ("绑定",)},
    STOP: {"en": ("stop", "unsubscribe"), "fa": ("توقف", "لغو"), "ar": ("توقف", "إلغاء"), "ru": ("стоп",),
           "zh": ("停止", "退订")},
}
_BY_WORD = {}
for _name, _languages in WORDS.items():
    for _lang, _words in _languages.items():
        for _word in _words:
            _BY_WORD.setdefault(_word.casefold(), (_name, _lang))

# Commands that need a number, text, or both after the word.
_NUMBERED = {CONFIRM, YES, NO}
_OPTIONAL_NUMBER = {OFFERS, READ}
_TEXT = {NEED, SAY}
MAX_TEXT = 1600  # about ten SMS parts: longer is cut by the providers anyway

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９", "0123456789" * 3)
_PERSIAN_ONLY = set("پچژگکی")


def language_of(text):
    """The language a message seems written in, by its script: for the help it gets back."""
    letters = [c for c in text if c.isalpha()]
    if any("\u0600" <= c <= "\u06ff" for c in letters):
        return "fa" if _PERSIAN_ONLY & set(text) else "ar"
    if any("\u0400" <= c <= "\u04ff" for c in letters):
        return "ru"
    if any("\u4e00" <= c <= "\u9fff" for c in letters):
        return "zh"
    return "en"


def _split(text):
    """(first word, the rest), with CJK's lack of spaces allowed: 需要法律 is 需要 + 法律."""
    text = text.strip()
    for word in sorted((w for w in _BY_WORD if any("\u4e00" <= c <= "\u9fff" for c in w)), key=len, reverse=True):
        if text.startswith(word):
            return word, text[len(word):].strip()
    first, _, rest = text.partition(" ")
    return first.casefold().strip(".,!؟?:;،"), rest.strip()


def starts_with_command(text):
    """Whether `text` begins with a command word (of any of the five languages)."""
    word, _ = _split(unicodedata.normalize("NFKC", text or ""))
    return word in _BY_WORD or word == "？"


def _number(text):
    """(the leading number, what follows), or (None, text)."""
    found = re.match(r"#?(\d{1,4})\b\s*(.*)", text.translate(_DIGITS), re.DOTALL)
    return (int(found.group(1)), found.group(2).strip()) if found else (None, text)


SKILL_ORDER = tuple(SKILLS)  # HELP lists them numbered from 1, in this order


def skill_of(word):
    """A skill by its number in HELP's list or by its key, or None (never a guess from a word)."""
    word = word.casefold().translate(_DIGITS)
    if word.isdigit() and 1 <= int(word) <= len(SKILL_ORDER):
        return SKILL_ORDER[int(word) - 1]
    return word if word in SKILLS else None


def parse(message):
    """The command in a message: Command(name, lang, number, text). Anything unclear is HELP in the
    message's language (with `text` saying what was unclear, for the reply)."""
    message = unicodedata.normalize("NFKC", message or "").strip()[:MAX_TEXT]
    lang = language_of(message)
    if not message:
        return Command(HELP, lang, None, None)
    word, rest = _split(message)
    if word == "？":
        word = "?"
    found = _BY_WORD.get(word)
    if found is None:
        return Command(HELP, lang, None, "unknown")
    name, lang = found
    number, text = _number(rest)
    if name in _NUMBERED:
        if number is None:
            return Command(HELP, lang, None, name)
        return Command(name, lang, number, None)
    if name in _OPTIONAL_NUMBER:
        return Command(name, lang, number, None)
    if name == NEED:
        skill, _, text = rest.partition(" ")
        if skill_of(skill) is None or not text.strip():
            return Command(HELP, lang, None, NEED)
        return Command(NEED, lang, None, (skill_of(skill), text.strip()))
    if name == SAY:
        if not text:
            return Command(HELP, lang, None, SAY)
        return Command(SAY, lang, number, text)
    if name == LINK:
        code = rest.replace(" ", "").translate(_DIGITS)
        if not re.fullmatch(r"[0-9A-Za-z]{6,12}", code):
            return Command(HELP, lang, None, LINK)
        return Command(LINK, lang, None, code.upper())
    return Command(name, lang, None, None)
