"""The short number a match goes by in text messages (DESIGN, "Reach when the web is blocked or
cut"): four digits someone can type on any phone (`YES 4821`, `SAY 4821 ...`), the same wherever
it is computed (notify's texts, the gateway's intake), and saying nothing of the match's id.

Four digits can collide; they only ever name one of the few matches of one person, and a
collision among those is answered by asking the person to use the web page instead of guessing.
"""
import hashlib

SPACE = 9000  # 1000..9999: never a leading zero a phone's keyboard might drop


def short_ref(match_id):
    digest = hashlib.sha256(f"match ref\n{match_id}".encode()).digest()
    return str(1000 + int.from_bytes(digest[:8], "big") % SPACE)
