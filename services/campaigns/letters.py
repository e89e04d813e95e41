"""Letters of support: plain rules, no I/O.

A letter travels through the hands of prison staff and censors before it reaches the person held
(../shared/CAMPAIGNS.md): a name of another prisoner, a plan, an address, anything that tells who
the writer is, can be used against the prisoner or the family. So the composer warns before it
stores (`warnings`), a moderator reads every letter before any owner sees it, and the owners get
only approved letters, never who wrote them. A letter in another language than the prisoner's
becomes a translation need (`needs_translation`); the bundle prints the translation.
"""
import uuid

from services.common.trust import privacy

STATUSES = ("pending", "approved", "rejected")
# What the family says became of a letter they printed: given to the prison (or a visitor),
# confirmed received by the prisoner, given back, or taken by the guards.
DELIVERY = ("handed_over", "delivered", "returned", "confiscated")
# Words a censor reads as organising, in the languages letters are written in most: the composer
# asks the writer to look again (a warning, not a refusal: "we will not forget you" is fine).
PLAN_WORDS = {
    "en": ("protest", "demonstration", "rally", "strike", "meeting", "escape", "smuggle", "lawyer's plan"),
    "fa": ("تظاهرات", "تجمع", "اعتصاب", "اعتراض", "فرار", "قاچاق"),
    "ar": ("مظاهرة", "تظاهرة", "اعتصام", "إضراب", "هروب", "تهريب"),
    "ru": ("протест", "митинг", "демонстрац", "забастовк", "побег"),
    "zh": ("抗议", "示威", "集会", "罢工", "越狱"),
}
PLAN_WARNING = ("It mentions what a censor may read as a plan (a protest, a strike, an escape). Write "
                "about your support, not about actions.")
IDENTITY_WARNING = ("Names, addresses, phone numbers and handles can be used against the prisoner, other "
                    "prisoners or you: leave them out.")
# The translation need of a letter has an id derived from the letter's: approving the letter twice
# (a retry) asks for one translation, and campaigns knows which request a confirmation is about.
_TRANSLATION_REQUESTS = uuid.UUID("3c9e0f6a-27b4-4d8e-9a51-6e0d2b7c4f18")


def warnings(text):
    """{"text": "warning ..."} when the letter should be looked at again before it is sent."""
    found = []
    if privacy.findings(text):
        found.append(IDENTITY_WARNING)
    lowered = text.lower()
    if any(word in lowered for words in PLAN_WORDS.values() for word in words):
        found.append(PLAN_WARNING)
    return {"text": " ".join(found)} if found else {}


def needs_translation(letter, campaign):
    return letter["language"] != campaign["language"]


def translation_request_id(letter_id):
    return uuid.uuid5(_TRANSLATION_REQUESTS, letter_id).hex


def owner_view(letter, text, translation):
    """An approved letter as the owners see it: never who wrote it, and its translation only once a
    moderator approved it too (whatever the owners receive or print has passed a moderator)."""
    approved = letter.get("translation_status") == "approved"
    return {"id": letter["_id"], "language": letter["language"], "text": text,
            "translation": translation if approved else None,
            "translation_status": letter.get("translation_status") if translation else None,
            "needs_translation": letter.get("needs_translation", False),
            "translation_awaits_owner": bool(letter.get("translation_awaits_owner")),
            "delivery": letter.get("delivery"), "approved_at": letter["moderated_at"].isoformat()}


def translation_need(letter, campaign):
    """Whether an approved letter's translation need is posted at once: only for a listed
    (`public`) campaign. A quiet one's needs are posted only when an owner says so (a need is
    read by every verified volunteer with the skill), and a paused one sends nothing out."""
    return campaign["mode"] == "public"
