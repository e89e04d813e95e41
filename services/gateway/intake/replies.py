"""What a person who writes by SMS is told back, in the language they wrote in: short, plain, and
naming nothing but what they need to go on. Marked for the pages' catalogs (`N_`), so the same
translators and the same checks (test_catalogs.py) cover them."""
from services.common.taxonomy import SKILLS

from ..web.messages import N_, SKILL_LABELS

HELP = N_("To ask for help, write NEED, a skill's number and what you need, for example: NEED 2 a lawyer for "
          "my brother's appeal. Skills: %(skills)s. Write STOP and this number gets no more texts.")
MORE_HELP = N_("Then: OFFERS shows who offers help; CONFIRM and their number chooses one. Helpers: LINK and the "
               "code from your profile page; YES or NO and a number answers. READ and SAY with a number read "
               "and write a conversation.")
POSTED = N_("Your need is posted, for helpers who have that skill and were vetted by a moderator. Nobody else "
            "reads it, and nobody sees your number.")
NOT_POSTED = N_("That need was not posted: write a few words more about what you need, after the skill's number.")
TOO_MANY = N_("That need was not posted: you have as many open needs as one person may have.")
STOPPED = N_("This number is forgotten and gets no more texts. What you posted stays; write again to start anew.")
NOT_LINKED = N_("This number was not linked to anything: there was nothing to forget.")
CANNOT_ACT = N_("Nothing can be done from this number now.")
NOT_LINKED_YET = N_("This number is linked to no account. Write NEED to ask for help, or link it to your "
                    "account with LINK and the code from your profile page.")
LINKED = N_("This number is now linked to %(handle)s. Write HELP to see what it can do.")
LINK_FAILED = N_("That code is wrong or has expired: ask your profile page for a new one.")
LINK_TAKEN = N_("This number is linked to another account: write STOP first to unlink it.")
NO_SUCH = N_("Nothing of yours waits under the number %(ref)s.")
AMBIGUOUS = N_("Two of your matches have that number: please answer this one on the web page.")
NOT_DONE = N_("That could not be done: %(ref)s may have changed meanwhile.")
SAID_YES = N_("Thank you: the person who asked will decide, and you will get a text.")
SAID_NO = N_("Declined: you will not be asked about this need again.")
NO_OFFERS = N_("Nobody has offered to help yet; you will get a text when someone does.")
OFFER = N_("%(ref)s: %(handle)s%(vetted)s, %(skills)s; %(languages)s; helped %(helped)s times. %(bio)s")
VETTED = N_(" (vetted)")
TO_CONFIRM = N_("Write CONFIRM and a number to choose that helper.")
CONFIRMED = N_("You chose %(handle)s. Write SAY %(ref)s and your words to talk with them.")
SUMMARY = N_("%(ref)s asks for: %(skills)s; languages %(languages)s; country %(country)s; urgency %(urgency)s. "
             "Answer YES %(ref)s or NO %(ref)s.")
NO_LINES = N_("No lines yet in %(ref)s.")
LINE_MINE = N_("You: %(text)s")
LINE_THEIRS = N_("They: %(text)s")
SENT = N_("Sent to %(ref)s.")
# The same, said of an email address (the email intake): what names the channel is the channel's.
STOPPED_ADDRESS = N_("This address is forgotten and gets no more emails. What you posted stays; write again to "
                     "start anew.")
NOT_LINKED_ADDRESS = N_("This address was not linked to anything: there was nothing to forget.")
NOT_LINKED_YET_ADDRESS = N_("This address is linked to no account. Write NEED to ask for help, or link it to "
                            "your account with LINK and the code from your profile page.")
LINKED_ADDRESS = N_("This address is now linked to %(handle)s. Write HELP to see what it can do.")
LINK_TAKEN_ADDRESS = N_("This address is linked to another account: write STOP first to unlink it.")
OF_ADDRESS = {STOPPED: STOPPED_ADDRESS, NOT_LINKED: NOT_LINKED_ADDRESS, NOT_LINKED_YET: NOT_LINKED_YET_ADDRESS,
              LINKED: LINKED_ADDRESS, LINK_TAKEN: LINK_TAKEN_ADDRESS}


def of_channel(reply, channel):
    """A reply in the words of its channel: a number's, or an address's."""
    return OF_ADDRESS.get(reply, reply) if channel == "email" else reply
CHECKED_IN = N_("Checked in. Thank you.")
NEEDS_COUNTRY = N_("That need was not posted: write the country's two letters after the skill's number, for "
                   "example: NEED 2 IR a lawyer for my brother's appeal.")
WRITE_BACK = N_("To use these commands, answer this email: your answer comes back to an address that is "
                "yours alone. Nothing was done with what you wrote.")
NO_CHECK_IN = N_("No check-in is set for this account.")


def skills_list(gettext):
    """"1 Press and journalism, 2 Legal advice...": the numbers NEED takes, in the reader's words."""
    return ", ".join(f"{n} {gettext(SKILL_LABELS[skill])}" for n, skill in enumerate(SKILLS, start=1))


def help_text(gettext):
    return gettext(HELP) % {"skills": skills_list(gettext)} + " " + gettext(MORE_HELP)
