"""What the campaigns service accepts over RPC (DESIGN, "Campaigns for prisoners of conscience")."""
import re

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from services.common.schemas import UNIQUE, URGENCIES, Country, Language, LanguageList, StrictSchema, unique

from .supporters import ACTIONS

TITLE = dict(validate=validate.Length(min=5, max=200))
STORY = dict(validate=validate.Length(min=20, max=10000))
MODES = ("public", "quiet", "paused")
# Who may see one field about the prisoner: anyone, moderator-verified volunteers (and moderators),
# or the campaign's owners only. The owners choose field by field; a field not chosen is owners-only.
LEVELS = ("public", "verified", "owners")
PRISONER_FIELDS = ("name", "prison", "charges", "family_names")
PRISONER_STATUSES = ("detained", "disappeared", "charged", "tried", "sentenced", "transferred", "hunger_strike",
                     "released", "exiled")
FIELD_TEXT = dict(validate=validate.Length(min=1, max=500))


class Prisoner(StrictSchema):
    """What the page may say about the person held: each field shown only as its consent allows."""
    name = fields.String(**FIELD_TEXT)
    prison = fields.String(**FIELD_TEXT)
    charges = fields.String(validate=validate.Length(min=1, max=2000))
    family_names = fields.String(**FIELD_TEXT)


class Consent(StrictSchema):
    """The owners' choice, field by field, of who sees it (`LEVELS`)."""
    name = fields.String(validate=validate.OneOf(LEVELS))
    prison = fields.String(validate=validate.OneOf(LEVELS))
    charges = fields.String(validate=validate.OneOf(LEVELS))
    family_names = fields.String(validate=validate.OneOf(LEVELS))


class NewCampaign(StrictSchema):
    title = fields.String(required=True, **TITLE)
    story = fields.String(required=True, **STORY)
    # The prisoner's country: where the campaign is aimed, and the one country whose supporters are
    # never counted in public (a count there could be used against them).
    prisoner_country = Country(required=True)
    prisoner_status = fields.String(load_default="detained", validate=validate.OneOf(PRISONER_STATUSES))
    detained_on = fields.Date(load_default=None, allow_none=True)
    # The prisoner's language: what letters are translated into, what the bundle is printed in.
    language = Language(required=True)
    mode = fields.String(load_default="public", validate=validate.OneOf(("public", "quiet")))
    prisoner = fields.Nested(Prisoner, load_default=dict)
    consent = fields.Nested(Consent, load_default=dict)
    # The owner read the warning that the story may identify someone, and publishes anyway.
    confirm_public = fields.Boolean(load_default=False)


class CampaignEdit(StrictSchema):
    """PATCH by an owner: every field optional, at least one. `{"mode": "paused"}` pauses."""
    title = fields.String(**TITLE)
    story = fields.String(**STORY)
    prisoner_status = fields.String(validate=validate.OneOf(PRISONER_STATUSES))
    detained_on = fields.Date(allow_none=True)
    language = Language()
    mode = fields.String(validate=validate.OneOf(MODES))
    prisoner = fields.Nested(Prisoner)
    consent = fields.Nested(Consent)
    # After the prisoner's status changed, the owners confirm again what may be shown (until then
    # every field is for the owners only).
    consent_confirmed = fields.Boolean()
    confirm_public = fields.Boolean(load_default=False)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not set(data) - {"confirm_public"}:
            raise ValidationError("Send at least one field to change.", "_schema")


class Signature(StrictSchema):
    """A supporter's signature: no account, no name. The email, if any, only decides that it signs
    once (a keyed hash of it is kept, never the address)."""
    country = Country(required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))


class CampaignListQuery(StrictSchema):
    # Words in the title or story: the gateway asks search instead (campaigns keeps no word index).
    q = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    country = Country(load_default=None, allow_none=True)
    prisoner_status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PRISONER_STATUSES))


# Every id campaigns makes (a campaign, a letter, a wall post, a pledge): 32 hex digits. What is not
# one names nothing, and is answered as an unknown id is (404), before the store is asked.
ID = re.compile(r"^[0-9a-f]{32}$")


def is_id(value):
    return isinstance(value, str) and ID.match(value) is not None


def is_ref(value):
    """What names an owner invitation to the owners (32 hex digits, as an id)."""
    return is_id(value)


LETTER_TEXT = dict(validate=validate.Length(min=20, max=6000))


class NewLetter(StrictSchema):
    """A letter of support to the person held, by a signed-in supporter. Text only: nothing that
    carries metadata (a photo's place and camera) is accepted."""
    text = fields.String(required=True, **LETTER_TEXT)
    language = Language(required=True)
    # The writer read the composer's warning (a name, a plan...) and sends it as it is.
    confirm_sensitive = fields.Boolean(load_default=False)


class LetterDecision(StrictSchema):
    """A moderator's decision on a pending letter."""
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))


class LetterDelivery(StrictSchema):
    """What the family says became of a printed letter."""
    delivery = fields.String(required=True, validate=validate.OneOf(
        ("handed_over", "delivered", "returned", "confiscated")))


class LetterTranslation(StrictSchema):
    """The confirmed translator's translation, into the prisoner's language."""
    text = fields.String(required=True, **LETTER_TEXT)


# What happens to a person held, as the timeline tells it (DESIGN, "The prisoner's timeline").
TIMELINE_KINDS = ("detained", "disappeared", "charged", "tried", "sentenced", "transferred", "hunger_strike",
                  "appeal", "visit_denied", "health", "released", "exiled", "other")


class TimelineEntry(StrictSchema):
    """One moment of the prisoner's story: what, when, who says so, and who may read it."""
    kind = fields.String(required=True, validate=validate.OneOf(TIMELINE_KINDS))
    date = fields.Date(required=True)
    # Where it is known from: a court document, a lawyer, the family, a news report (text or a link).
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=300))
    # The articles charged, the sentence, the prison transferred to...
    details = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=1000))
    # Like the prisoner's details: a moment not chosen for others is for the owners only.
    visibility = fields.String(load_default="owners", validate=validate.OneOf(LEVELS))


class WallPost(StrictSchema):
    """A family member's message to the person held, on the campaign's wall (moderated)."""
    text = fields.String(required=True, validate=validate.Length(min=2, max=2000))


PLEDGE_KINDS = ("press", "policy", "legal", "letter", "other")


class Pledge(StrictSchema):
    """A supporter's promise of an action (an article, a question in parliament...). The page shows
    what was done, and who did it only if they asked to be credited."""
    action = fields.String(required=True, validate=validate.Length(min=5, max=300))
    kind = fields.String(load_default="other", validate=validate.OneOf(PLEDGE_KINDS))
    credit = fields.Boolean(load_default=False)


class OwnerInvitation(StrictSchema):
    """The code a campaign's creator gave a co-owner (a lawyer, an NGO), privately."""
    code = fields.String(required=True, validate=validate.Length(min=16, max=100))


class SupporterLink(StrictSchema):
    """What a supporter's emailed link asks (services/campaigns/supporters.py): the token stands for
    their signature, and crosses the bus sealed to campaigns (whoever holds it can withdraw it)."""
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))


class Dispute(StrictSchema):
    """A moderator marks a campaign as disputed (say, another relative says the family did not
    agree to it), or clears it."""
    disputed = fields.Boolean(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


# What the owners may ask of journalists, policy-makers and lawyers for the campaign.
ASK_SKILLS = ("press", "policy", "legal", "pr", "translation", "research", "art")


class Ask(StrictSchema):
    """An owners' call to journalists, policy-makers, lawyers: posted as a need linked to the
    campaign, matched and notified as any need is. Public text: it is checked like a request's."""
    title = fields.String(required=True, validate=validate.Length(min=5, max=200))
    body = fields.String(required=True, validate=validate.Length(min=10, max=5000))
    # The document says which skills an ask may name (an enum), as it says every other limit.
    skills = fields.List(fields.String(validate=validate.OneOf(ASK_SKILLS)), required=True,
                         validate=[validate.Length(min=1, max=len(ASK_SKILLS)), unique], **UNIQUE)
    languages = LanguageList(required=True, min_items=1)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    confirm_public = fields.Boolean(load_default=False)
