"""The printable bundle of a campaign's approved letters, as a PDF (WeasyPrint).

The family prints it and hands it over at the prison, so it is printed in the prisoner's
language: a letter written in another language goes in as its translation (a letter still waiting
for one is left out, and the owners' page says how many wait). Persian and Arabic are set right to
left, Chinese with its own fonts (Noto, which Debian's fonts-noto-core and fonts-noto-cjk carry;
Pango shapes the scripts). Every letter starts a page of its own, so one can be handed over alone.

The plain mode carries nothing that ties the paper to the platform: no name of it, no address, no
code, not even the campaign's title; only the letters, and a greeting in the prisoner's language. A
guard who reads it sees letters from strangers, which is what they are.

Nothing in a bundle is fetched: the HTML is ours and the letters are text (escaped by Jinja), and
the URL fetcher refuses every URL, so a letter cannot make the gateway reach anywhere.
"""
from datetime import date

from eventlet import tpool
from weasyprint import HTML

from . import i18n
from .pages import environment

RIGHT_TO_LEFT = {"fa", "ar", "ur", "ps", "he", "ku", "sd"}
FONTS = {"fa": '"Noto Naskh Arabic", "Noto Sans Arabic"', "ar": '"Noto Naskh Arabic", "Noto Sans Arabic"',
         "ur": '"Noto Naskh Arabic", "Noto Sans Arabic"', "zh": '"Noto Serif CJK SC", "Noto Sans CJK SC"',
         "ja": '"Noto Serif CJK JP", "Noto Sans CJK SC"', "ko": '"Noto Serif CJK KR", "Noto Sans CJK SC"'}
DEFAULT_FONTS = '"Noto Serif", "Noto Sans", serif'
# Page numbers in the reader's own digits (CSS counter styles WeasyPrint knows).
PAGE_NUMBERS = {"fa": "persian", "ar": "arabic-indic"}


def refuse_every_url(url, *args, **kwargs):
    raise ValueError(f"a bundle fetches nothing ({url[:40]!r} refused)")


def printable(letters):
    """The letters the bundle prints, in the prisoner's language: (text, language) each."""
    for letter in letters["items"]:
        if not letter["needs_translation"]:
            yield letter["text"], letter["language"]
        elif letter["translation"]:
            yield letter["translation"], letters["language"]


def html(letters, plain, today=None):
    """The bundle's HTML: in the prisoner's language where the pages have a catalog for it."""
    language = letters["language"]
    lang = language if language in i18n.LANGUAGES else i18n.DEFAULT
    items = [{"text": text, "dir": "rtl" if lang_ in RIGHT_TO_LEFT else "ltr", "lang": lang_}
             for text, lang_ in printable(letters)]
    fmt = i18n.Formatter(lang)
    return environment(lang).get_template("bundle.html").render(
        letters=items, plain=plain, language=language, dir="rtl" if language in RIGHT_TO_LEFT else "ltr",
        fonts=FONTS.get(language, DEFAULT_FONTS), page_numbers=PAGE_NUMBERS.get(language, "decimal"), title=letters["title"], prisoner_name=letters.get("prisoner_name"),
        printed_on=fmt.date(today or date.today()), count=fmt.number(len(items)))


def render(letters, plain, today=None):
    """The PDF's bytes. WeasyPrint takes real CPU: it runs in a thread of its own, so the gateway's
    other requests go on meanwhile."""
    document = html(letters, plain, today)
    return tpool.execute(lambda: HTML(string=document, url_fetcher=refuse_every_url).write_pdf())
