"""What a person who writes by SMS is told back, in the language they wrote in: short, plain, and
naming nothing but what they need to go on. Marked for the pages' catalogs (`N_`), so the same
translators and the same checks (test_catalogs.py) cover them."""
from services.common.taxonomy import SKILLS

from ..web.messages import N_, SKILL_LABELS

HELP = N_("To ask for help, write NEED, a skill's number and what you need, for example: NEED 2 a lawyer for "
          "my brother's appeal. Skills: %(skills)s. Write STOP and this number gets no more texts.")
POSTED = N_("Your need is posted, for helpers who have that skill and were vetted by a moderator. Nobody else "
            "reads it, and nobody sees your number.")
NOT_POSTED = N_("That need was not posted: write a few words more about what you need, after the skill's number.")
TOO_MANY = N_("That need was not posted: you have as many open needs as one person may have.")
STOPPED = N_("This number is forgotten and gets no more texts. What you posted stays; write again to start anew.")
NOT_LINKED = N_("This number was not linked to anything: there was nothing to forget.")
CANNOT_ACT = N_("Nothing can be done from this number now.")


def skills_list(gettext):
    """"1 Press and journalism, 2 Legal advice...": the numbers NEED takes, in the reader's words."""
    return ", ".join(f"{n} {gettext(SKILL_LABELS[skill])}" for n, skill in enumerate(SKILLS, start=1))


def help_text(gettext):
    return gettext(HELP) % {"skills": skills_list(gettext)}
