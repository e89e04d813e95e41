"""Every sentence and label the pages show, in one place (each marked for the catalogs with N_):
what a finished action says, what an error tells a person, what each field expects, and the words
for the contract's values (the values stay the contract). Translated by the catalogs under
translations/ (`scripts/catalogs.sh`)."""
from services.common.taxonomy import SKILLS


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


# What a finished action says on the page it leads to (`?done=key`): a fixed set of keys, so no
# text of the visitor's choosing is ever echoed back.
DONE = {
    "signed_up": N_("Welcome. Your account is ready."),
    "signed_in": N_("You are signed in."),
    "signed_out": N_("You are signed out."),
    "posted": N_("Your request is posted. Volunteers with the skills it needs will be asked."),
    "offered": N_("Your offer is sent. The author decides whether to accept it."),
    "flagged": N_("Thank you. A moderator will look at it."),
    "closed": N_("The request is closed."),
    "invited": N_("The volunteer is invited. They will see it with their proposals."),
    "saved": N_("Saved."),
    "checked_in": N_("Checked in. Thank you."),
    "accepted": N_("You said yes. The author decides now; you will be told."),
    "declined": N_("You declined. Nobody else sees your reason."),
    "confirmed": N_("You chose this helper. Your private conversation is open."),
    "rejected": N_("You declined this offer. The next candidate will be asked."),
    "campaign_started": N_("Your campaign is started. Only the details you allowed are shown to others."),
    "signed": N_("Thank you. Your support is counted; your name and email are shown nowhere."),
    "wall_posted": N_("Your message waits for a moderator; it shows on the wall while the campaign is public."),
    "endorsed": N_("Thank you. Your support is counted with that of other verified professionals, never by name."),
    "pledged": N_("Thank you. The family sees your promise; once they mark it done, the page shows what was done."),
    "joined": N_("You are an owner of this campaign now."),
    "asked": N_("Your ask is posted as a need. Verified journalists, lawmakers' staff or lawyers with the skill "
                "will be asked."),
    "letter_sent": N_("Thank you. A moderator reads your letter before the family gets it; they never learn "
                      "who wrote it."),
    "ended": N_("The helper's access has ended: they no longer read the request or the conversation. "
                "The request is open again."),
    "sent": N_("Message sent."),
    "read": N_("All notifications are marked read."),
    "moderated": N_("Done."),
    "deleted": N_("Your account and everything the platform held about you are deleted."),
    "password_changed": N_("Your password is changed. Every other session of your account has ended."),
}

# An error's code -> what a person is told (the services' own messages are written for programs).
ERRORS = {
    "validation_failed": N_("Some fields need another look."),
    "unauthorized": N_("Sign in to continue."),
    "forbidden": N_("This page is not open to your account."),
    "not_found": N_("There is nothing here, or it is not open to you."),
    "conflict": N_("This changed meanwhile. Look again before you continue."),
    "unprocessable": N_("This cannot be done now."),
    "confirmation_required": N_("Please confirm before you continue."),
    "too_many_requests": N_("Too many tries. Wait a few minutes, then try again."),
    "service_unavailable": N_("The platform is busy. Try again in a moment."),
    "csrf": N_("This form has expired. Open the page again and resend it."),
    "payload_too_large": N_("What you sent is too long."),
    "internal": N_("Something went wrong on our side. Nothing was changed."),
}


# A field's error in the reader's language: the services word theirs for programs, in English; a
# page in another language says what each field expects instead (by the field's name).
FIELD_ERRORS = {
    "handle": N_("3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit. Use a pseudonym, "
                 "not your real name."),
    "password": N_("At least 10 characters."),
    "new_password": N_("At least 10 characters."),
    "role": N_("Choose one."),
    "email": N_("This is not an email address."),
    "title": N_("Write a title of 5 to 200 characters."),
    "body": N_("Say what you need in 10 to 5,000 characters."),
    "skills": N_("Choose at least one skill."),
    "languages": N_("Choose at least one language."),
    "countries": N_("Choose countries from the list."),
    "country": N_("Choose a country."),
    "urgency": N_("Choose how urgent it is."),
    "visibility": N_("Choose who may read it."),
    "text": N_("Write a message of at most 4,000 characters."),
    "reason": N_("Say it in 3 to 1,000 characters."),
    "bio": N_("At most 2,000 characters."),
    "availability_hours": N_("A whole number from 0 to 200."),
    "max_active_matches": N_("A whole number from 1 to 20."),
}
# The services' own messages a page shows as they are (field_errors translates them by the catalog).
SERVICE_MESSAGES = (N_("That handle is taken."), N_("Wrong password."))
