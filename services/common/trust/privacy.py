"""Does public text look like it identifies someone? Heuristics, erring towards asking.

Anyone can read a public post, so it must not identify a person. Before a public (or
volunteers-only) request is published, its text is checked for what looks like an email address,
a phone number or a full name; if anything is found, the author must confirm (`confirm_public`)
before it is published. The checks are deliberately simple and explainable: a warning that is
sometimes unnecessary costs one click; a missed one can cost a person their freedom.
"""
import re
import unicodedata

from services.common.errors import ConfirmationRequired

# The local part starts only where a run of its characters starts (the lookbehind): otherwise a
# long run without an "@" is rescanned from every position (5,000 characters of "a." took 0.5 s,
# quadratic, on the service's event loop).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)+",
                   re.I)
# Seven or more digits, allowing spaces, dots, dashes, slashes and brackets between them.
PHONE = re.compile(r"(?<!\d)(?:\+|00)?(?:\d[\s().\-/]{0,2}){7,}\d")
HANDLE_LIKE = re.compile(r"(?:^|\s)@[A-Za-z0-9_]{3,}")  # a social-media handle
NAME_INTRO = re.compile(
    r"\b(?:my name is|i am called|named|called|his name is|her name is|their name is)\s+"
    r"([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)+)", re.I)
NAME_INTRO_FA_AR = re.compile(r"(?:اسم من|نام من|نامش|اسمه|اسمها|اسمي)\s+\S+\s+\S+")
NAME_INTRO_RU = re.compile(r"(?i:меня зовут|его зовут|её зовут|ее зовут)\s+[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+")

# Common given names across the communities the platform serves (Latin transliterations). A given
# name followed by another capitalised word is very likely a full name.
GIVEN_NAMES = frozenset("""
ali mohammad muhammad mohammed ahmad ahmed hassan hossein hussein reza mehdi mahmoud amir omid
nasrin narges nazanin sara sarah maryam fatemeh fatima zahra leila leyla shirin parisa azadeh
farhad babak behnam kaveh arash dariush cyrus navid hamid saeed said majid javad nima soheil
yousef youssef omar umar khaled khalid abdullah abdulaziz salman faisal nour noor layla hind
aisha amina rania lina hadi samir karim walid mustafa mostafa ibrahim ismail yasmin yasmine
alexei alexey aleksei sergei sergey dmitry dmitri ivan vladimir mikhail nikolai andrei pavel
yulia julia natalia natalya olga irina anna maria tatiana svetlana elena ekaterina ilya boris
wei li ming hui jun lei xiaobo xiaoming liu zhang wang chen yang zhao huang zhou wu xu sun
kim park lee choi jung jin min young
john james robert michael william david richard joseph thomas charles mary patricia jennifer
linda elizabeth barbara susan jessica karen nancy lisa betty margaret emily emma olivia
jose juan carlos luis jorge pedro miguel rosa carmen ana lucia
""".split())
CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z'-]+)\s+([A-Z][a-z'-]+)\b")


def _normalise(text):
    # Persian and Arabic-Indic digits are digits too: NFKC does not map them, so do it here.
    text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789"))
    return unicodedata.normalize("NFKC", text)


def findings(text):
    """The kinds of identifying detail `text` seems to contain, as readable warnings."""
    if not text:
        return []
    text = _normalise(text)
    found = []
    if EMAIL.search(text):
        found.append("It looks like it contains an email address.")
    if PHONE.search(text):
        found.append("It looks like it contains a phone number.")
    if HANDLE_LIKE.search(text):
        found.append("It looks like it contains a social-media handle.")
    if (NAME_INTRO.search(text) or NAME_INTRO_FA_AR.search(text) or NAME_INTRO_RU.search(text)
            or any(first.lower() in GIVEN_NAMES for first, _ in CAPITALISED_PAIR.findall(text))):
        found.append("It looks like it contains a person's full name.")
    return found


def check_public_text(fields):
    """{field: text} -> {field: "warning; warning"} for the fields that need confirming."""
    warnings = {}
    for name, text in fields.items():
        found = findings(text)
        if found:
            warnings[name] = " ".join(found) + " Anyone can read this post; put what identifies " \
                                                "someone in a private message instead."
    return warnings


def confirm_public(fields, confirmed, readers, advice="Edit it"):
    """The one check before text others will read is kept: ConfirmationRequired (422, each field's
    warning) when `fields` ({field: text}) may identify someone and the author did not confirm
    (`confirm_public: true`). `readers`: who will read it; `advice`: what to do instead."""
    warnings = check_public_text(fields)
    if warnings and not confirmed:
        raise ConfirmationRequired(f"This text may identify someone, and {readers} can read it. {advice}, or send "
                                   "it again with confirm_public: true.", warnings)
