"""What a person who writes by text may do, as themselves: post a need, answer a proposal, see
who offers help and choose one, read and write a conversation, link the number to an account made
on the web, and forget the number. The same acts as the API's, through the same services and the
same rules (matching decides who may answer what; the author's choice is signed here, as for the
web); only the words differ (commands.py, replies.py).

Each message is one act in one session: opened for the number's account (profiles finds it by a
keyed hash of the number) and ended with the message. Matches go by their short number
(services/common/refs.py), which notify's texts give; a number that names none of the person's
matches, or two, is answered, never guessed.
"""
import hashlib
from contextlib import contextmanager

from services.common.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, ValidationFailed
from services.common.refs import short_ref
from services.common.taxonomy import COUNTRIES

from ..http import Sealed, call
from ..routes.base import RoutesBase
from ..web import i18n
from ..web.messages import SKILL_LABELS
from . import commands, replies

TITLE_CHARS = 60
MAX_OFFERS = 5  # a text names at most this many helpers; the web page shows them all
LINES = 3  # READ texts back the last this many lines


def title_of(text):
    """A need's title from its first words (its whole text is the body)."""
    line = text.strip().splitlines()[0]
    if len(line) <= TITLE_CHARS:
        return line
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


class TextActs(RoutesBase):
    """Mixed into the gateway with the intakes (sms.py) that read a command and reply with what
    `act` returns. `country_of(address)`: the country a need posted from this address is about."""

    def act(self, command, channel, address, cause, country=None, reply_to=None):
        """The replies (already in the writer's language) to `command` from `address`. `cause`:
        the inbound message's id, so the provider's retry of one message posts one need.
        `reply_to`: for email, the address the platform's emails ask to be answered at."""
        gettext = i18n.translations(command.lang).gettext
        where = {"channel": channel, "address": address, **({"reply_to": reply_to} if reply_to else {})}
        if command.name == commands.STOP:
            unlinked = call(self.profiles.forget_channel, Sealed(where))
            said = replies.STOPPED if unlinked.get("forgotten") else replies.NOT_LINKED
            return [gettext(replies.of_channel(said, channel))]
        if command.name == commands.LINK:
            return [self._link(gettext, where, command.text)]
        if command.name == commands.NEED:
            with self._acting(where, create=True) as viewer:
                return [gettext(self._post_need(viewer, command, f"{channel}:{cause}", country))]
        act = {commands.YES: self._answer, commands.NO: self._answer, commands.OFFERS: self._offers,
               commands.CONFIRM: self._choose, commands.READ: self._read, commands.SAY: self._say,
               commands.CHECK_IN: self._check_in}.get(command.name)
        if act is None:  # HELP, anything unclear, and what text does not do yet
            return [replies.help_text(gettext)]
        try:
            with self._acting(where, create=False) as viewer:
                return [act(viewer, command, gettext)]
        except NotFound:
            return [gettext(replies.of_channel(replies.NOT_LINKED_YET, channel))]

    # ---- a session per message

    @contextmanager
    def _acting(self, where, create):
        """The viewer the address's account stands for, for one act. NotFound: no account (and
        `create` is false); Forbidden: the account cannot act."""
        session = call(self.profiles.channel_session, Sealed(dict(where, create=create)))
        token = session["token"]
        try:
            yield self._viewer_of(token)
        finally:
            call(self.profiles.logout, Sealed(token), False)
            self._revoked(token=token)

    # ---- the acts

    def _post_need(self, viewer, command, cause, country):
        skill, text = command.text
        if country is None:  # by email: the country is written after the skill (NEED 2 IR ...)
            code, _, rest = text.partition(" ")
            if code.upper() not in COUNTRIES or not rest.strip():
                return replies.NEEDS_COUNTRY
            country, text = code.upper(), rest.strip()
        need = {"title": title_of(text), "body": text, "skills": [skill], "languages": [command.lang],
                "country": country, "urgency": "normal", "visibility": "private"}
        # The provider may post the same message again (a timeout): one need per message.
        key = hashlib.sha256(cause.encode()).hexdigest()
        try:
            call(self.requests.create_request, viewer, Sealed(need), key)
        except ValidationFailed:
            return replies.NOT_POSTED
        except TooManyRequests:
            return replies.TOO_MANY
        except Forbidden:
            return replies.CANNOT_ACT
        return replies.POSTED

    def _link(self, gettext, where, code):
        try:
            linked = call(self.profiles.link_channel, Sealed(dict(where, code=code)))
        except (NotFound, ValidationFailed):
            return gettext(replies.LINK_FAILED)
        except Conflict:
            return gettext(replies.of_channel(replies.LINK_TAKEN, where["channel"]))
        return gettext(replies.of_channel(replies.LINKED, where["channel"])) % {"handle": linked["handle"]}

    def _matches(self, viewer, ref, statuses):
        """The viewer's matches in `statuses` with the short number `ref` (all of them if None)."""
        items = call(self.matching.list_matches, viewer, 50, None)["items"]
        return [m for m in items if m.get("id") and m["status"] in statuses
                and (ref is None or short_ref(m["id"]) == f"{ref}")]

    def _one(self, viewer, command, statuses, gettext):
        """(the match the command names, None) or (None, the reply saying why there is none)."""
        found = self._matches(viewer, command.number, statuses)
        if len(found) == 1:
            return found[0], None
        if not found:
            return None, gettext(replies.NO_SUCH) % {"ref": command.number or ""}
        return None, gettext(replies.AMBIGUOUS)

    def _answer(self, viewer, command, gettext):
        """YES or NO to a proposal (a volunteer's)."""
        if viewer["claims"]["role"] != "volunteer":
            return gettext(replies.CANNOT_ACT)
        match, why = self._one(viewer, command, ("proposed",), gettext)
        if match is None:
            return why
        try:
            if command.name == commands.YES:
                call(self.matching.accept_match, viewer, match["id"])
            else:
                call(self.matching.decline_match, viewer, match["id"], None)
        except DomainError:
            return gettext(replies.NOT_DONE) % {"ref": short_ref(match["id"])}
        return gettext(replies.SAID_YES if command.name == commands.YES else replies.SAID_NO)

    def _offers(self, viewer, command, gettext):
        """Who said yes to the author's needs and waits for their choice."""
        offers = [m for m in self._matches(viewer, command.number, ("accepted",)) if m.get("volunteer")]
        if not offers:
            return gettext(replies.NO_OFFERS)
        lines = []
        for match in offers[:MAX_OFFERS]:
            helper = match["volunteer"]
            lines.append(gettext(replies.OFFER) % {
                "ref": short_ref(match["id"]), "handle": helper["handle"],
                "skills": ", ".join(gettext(SKILL_LABELS[s]) for s in helper["skills"] if s in SKILL_LABELS),
                "languages": ", ".join(helper["languages"]), "helped": helper["helped"],
                "vetted": gettext(replies.VETTED) if helper["verified"] else "", "bio": (helper["bio"] or "")[:140]})
        return "\n".join(lines + [gettext(replies.TO_CONFIRM)])

    def _choose(self, viewer, command, gettext):
        """CONFIRM: the author's choice of a helper, signed here as the web's is."""
        match, why = self._one(viewer, command, ("accepted",), gettext)
        if match is None:
            return why
        try:
            self._confirm(viewer, match["id"])
        except DomainError:
            return gettext(replies.NOT_DONE) % {"ref": short_ref(match["id"])}
        return gettext(replies.CONFIRMED) % {"handle": match["volunteer"]["handle"], "ref": short_ref(match["id"])}

    def _read(self, viewer, command, gettext):
        """The last lines of a conversation, or what a proposal asks (never a private text before
        the author confirms: matching's summary, as on the web)."""
        if command.number is None:  # the one conversation under way, if there is one
            match, why = self._one(viewer, command, ("confirmed",), gettext)
        else:
            match, why = self._one(viewer, command, ("proposed", "accepted", "confirmed", "ended"), gettext)
        if match is None:
            return why
        ref = short_ref(match["id"])
        if match["status"] in ("proposed", "accepted"):
            asked = match.get("request") or {}
            return gettext(replies.SUMMARY) % {
                "ref": ref, "skills": ", ".join(gettext(SKILL_LABELS[s]) for s in asked.get("skills", [])
                                                if s in SKILL_LABELS),
                "languages": ", ".join(asked.get("languages", [])), "country": asked.get("country") or "-",
                "urgency": asked.get("urgency") or "-"}
        lines = call(self.notify.latest_messages, viewer, match["id"], LINES)["items"]
        if not lines:
            return gettext(replies.NO_LINES) % {"ref": ref}
        said = [(replies.LINE_MINE if line["mine"] else replies.LINE_THEIRS, line["text"]) for line in lines]
        return "\n".join(gettext(whose) % {"text": text} for whose, text in said)

    def _check_in(self, viewer, command, gettext):
        """OK: the check-in, by text."""
        try:
            call(self.profiles.check_in, viewer)
        except NotFound:
            return gettext(replies.NO_CHECK_IN)
        return gettext(replies.CHECKED_IN)

    def _say(self, viewer, command, gettext):
        """A line into a conversation under way (the one there is, if no number is given)."""
        match, why = self._one(viewer, command, ("confirmed",), gettext)
        if match is None:
            return why
        try:
            call(self.notify.send_message, viewer, match["id"], Sealed({"text": command.text}))
        except DomainError:
            return gettext(replies.NOT_DONE) % {"ref": short_ref(match["id"])}
        return gettext(replies.SENT) % {"ref": short_ref(match["id"])}
