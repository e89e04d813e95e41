"""The event contract: one envelope, one schema per event type, one way to build and parse events.

Every payload on the bus is an envelope `{event_id, event_type, occurred_at, schema_version, data}`
(and `traceparent`, the W3C trace context of the act that made it, when tracing is on).
The data schemas are strict (unknown fields rejected) so a producer cannot slip a private field
(an email, a phone number, message text) onto the bus by accident: it fails validation before it
is published. `tests/test_event_contract.py` also checks no schema names such a field.
"""
import functools
import uuid
from datetime import datetime, timezone

from marshmallow import ValidationError, fields, validate

from services.common import tracecontext
from services.common.schemas import (MATCH_STATUSES, PROFILE_STATUSES, REQUEST_STATUSES, ROLES, URGENCIES, VISIBILITIES,
                      Country, CountryList, Language, LanguageList, SkillList, StrictSchema)

SCHEMA_VERSION = 1


def utcnow():
    return datetime.now(timezone.utc)


def isoformat(moment):
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class Envelope(StrictSchema):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    data = fields.Dict(required=True)
    # The W3C trace context of the act that made the event (services/common/tracecontext.py): its
    # handlers' spans join that act's trace. Absent when tracing is off.
    traceparent = fields.String(validate=validate.Regexp(tracecontext.TRACEPARENT))


class ProfileData(StrictSchema):
    profile_id = fields.String(required=True)
    handle = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    status = fields.String(required=True, validate=validate.OneOf(PROFILE_STATUSES))
    skills = SkillList(required=True)
    languages = LanguageList(required=True)
    countries = CountryList(required=True)
    bio = fields.String(required=True)
    availability_hours = fields.Integer(required=True)
    max_active_matches = fields.Integer(required=True)
    verified = fields.Boolean(required=True)
    # The person's email, encrypted to notify's public key (services/common/trust/sealing.py): opaque
    # to every other consumer. None when they gave none.
    contact_sealed = fields.String(required=True, allow_none=True)
    # The phone number they text from (DESIGN, "Reach when the web is blocked or cut"), sealed to
    # notify likewise; None (or absent, before this field was) when no number is linked.
    sms_sealed = fields.String(load_default=None, allow_none=True)
    # The email address they write from (the email intake), with the address the platform's
    # emails ask to be answered at: JSON, sealed to notify likewise.
    mail_sealed = fields.String(load_default=None, allow_none=True)
    # Monotonic per profile: read models apply an event only if it is newer than what they hold.
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class ProfileDeletedData(StrictSchema):
    """A person deleted their account: every service forgets everything it holds about them."""

    profile_id = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class RequestData(StrictSchema):
    request_id = fields.String(required=True)
    # None on the closing event of a request whose author deleted their account: forgotten.
    author_id = fields.String(required=True, allow_none=True)
    # Title and body of a `private` request never travel: they are not public text.
    title = fields.String(required=True, allow_none=True)
    body = fields.String(required=True, allow_none=True)
    skills = SkillList(required=True, min_items=1)
    languages = LanguageList(required=True)
    country = Country(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    visibility = fields.String(required=True, validate=validate.OneOf(VISIBILITIES))
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    # Hidden by a moderator, or held while the campaign that caused it is paused: out of search,
    # matching and webhooks, still visible to its author.
    hidden = fields.Boolean(required=True)
    # Held by its campaign's pause (so notify does not tell the author a moderator hid it).
    # Absent in events written before it existed: False.
    held = fields.Boolean(load_default=False)
    # The author wants only moderator-verified helpers, even on a public request (always so for
    # `volunteers` and `private`). Absent in events written before it existed: False.
    verified_only = fields.Boolean(load_default=False)
    created_at = fields.AwareDateTime(required=True, format="iso")
    version = fields.Integer(required=True, validate=validate.Range(min=1))


ENDED_BY = ("author", "standing")


class MatchData(StrictSchema):
    match_id = fields.String(required=True)
    request_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    # None once the request's author deleted their account: matching forgets who they were.
    author_id = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(MATCH_STATUSES))
    score = fields.Float(required=True)
    reasons = fields.List(fields.String(), required=True)
    proposed_at = fields.AwareDateTime(required=True, format="iso")
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    # On `match_confirmed`: the author's decision, signed by the gateway (services/common/trust/keyring.py,
    # `sign_decision`). requests and notify grant nothing without it: matching alone cannot say
    # that an author chose someone.
    author_decision = fields.Dict(load_default=None, allow_none=True)
    # On `match_ended`: who ended a confirmed helper's access: the author, or the helper's standing
    # (no longer verified where the request needs it, suspended, deactivated).
    ended_by = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ENDED_BY))


class ProposedMatch(StrictSchema):
    """One match of a `matches_proposed` batch: what `MatchData` says beyond the request."""

    match_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MATCH_STATUSES))
    score = fields.Float(required=True)
    reasons = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))


# A top-up proposes at most k volunteers (MATCH_TOP_K); an invitation one.
MAX_BATCH = 50


class MatchesProposedData(StrictSchema):
    """One act, one event (DESIGN, "The spine"): the volunteers one top-up proposed for one
    request, together. Replaces one `match_proposed` per volunteer (schema version 2; consumers
    still accept `match_proposed` while a rollout drains what was written before)."""

    request_id = fields.String(required=True)
    author_id = fields.String(required=True, allow_none=True)
    proposed_at = fields.AwareDateTime(required=True, format="iso")
    matches = fields.List(fields.Nested(ProposedMatch), required=True,
                          validate=validate.Length(min=1, max=MAX_BATCH))


def batch_items(data):
    """A `matches_proposed` event's matches, each as the `MatchData` of its own proposal."""
    shared = {key: data[key] for key in ("request_id", "author_id", "proposed_at")}
    return [dict(item, **shared) for item in data["matches"]]


class MessageSentData(StrictSchema):
    match_id = fields.String(required=True)
    message_id = fields.String(required=True)
    sender_id = fields.String(required=True)
    sent_at = fields.AwareDateTime(required=True, format="iso")


class LetterTranslationNeededData(StrictSchema):
    """An approved letter of support is in another language than the prisoner's: requests posts
    a translation need (`request_id`, derived from the letter's id) in the name of the campaign's
    creator. The letter's text never travels: the confirmed translator reads it from campaigns."""

    request_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    letter_id = fields.String(required=True)
    author_id = fields.String(required=True)
    from_language = Language(required=True)
    to_language = Language(required=True)
    country = Country(required=True)


class CampaignAskData(StrictSchema):
    """The owners of a campaign ask journalists, policy-makers or lawyers for something (public
    text, as a public request's): requests posts it as a need linked to the campaign, in the name of
    the owner who asked, its id derived from the ask's (a second copy finds it posted)."""

    request_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    author_id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    skills = SkillList(required=True, min_items=1)
    languages = LanguageList(required=True)
    country = Country(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))


class CampaignData(StrictSchema):
    """A campaign as search may know it (one event per change, `campaign_changed`): its public
    text only while it is listed (`public`); nothing about the prisoner but the country and the
    status; no owner. A paused campaign travels as `mode: paused` with no text: search drops it."""

    campaign_id = fields.String(required=True)
    title = fields.String(required=True, allow_none=True)
    story = fields.String(required=True, allow_none=True)
    prisoner_country = Country(required=True)
    prisoner_status = fields.String(required=True)
    language = Language(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(("public", "quiet", "paused")))
    detained_on = fields.String(required=True, allow_none=True)
    disputed = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True, format="iso")
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class SupporterEmailData(StrictSchema):
    """A supporter signed with an email (`supporter_email_given`): notify asks them to confirm it.
    The address and the token of the supporter's links travel sealed to notify's key; `at` orders
    this against the supporter's later choices (events of one queue may come twice)."""

    signature_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    contact_sealed = fields.String(required=True)
    token_sealed = fields.String(required=True)
    at = fields.AwareDateTime(required=True, format="iso")


class SupporterUpdatesData(StrictSchema):
    """A supporter's choice through their link (`supporter_updates_changed`): updates confirmed,
    stopped, or the signature withdrawn (notify then forgets the address)."""

    signature_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    updates = fields.String(required=True, validate=validate.OneOf(("confirmed", "stopped", "withdrawn")))
    at = fields.AwareDateTime(required=True, format="iso")


class CampaignNewsData(StrictSchema):
    """Something a campaign's supporters should come and read (`campaign_news`: the prisoner's
    status changed, or a public moment was added). Never what: the email says only that there is news."""

    campaign_id = fields.String(required=True)
    news_id = fields.String(required=True)
    at = fields.AwareDateTime(required=True, format="iso")


class CheckInData(StrictSchema):
    """A check-in was missed (`check_in_missed`: its time passed, or the duress password was used:
    the two look alike, on purpose) or is resumed after one (`check_in_resumed`). `helpers`:
    matches whose other side is told; `campaigns`: campaigns whose other owners are told; the
    person's message travels sealed to notify, and only with the missed one."""

    profile_id = fields.String(required=True)
    helpers = fields.List(fields.String(), required=True)
    campaigns = fields.List(fields.String(), required=True)
    message_sealed = fields.String(load_default=None)
    at = fields.AwareDateTime(required=True, format="iso")


class CampaignOwnersToldData(StrictSchema):
    """campaigns relays a check-in (`campaign_owners_told`) of one owner to the campaign's other
    owners, whom only campaigns knows: `kind` is `missed` or `resumed`; the message stays sealed
    to notify, as it came."""

    campaign_id = fields.String(required=True)
    owner_ids = fields.List(fields.String(), required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("missed", "resumed")))
    message_sealed = fields.String(load_default=None)
    at = fields.AwareDateTime(required=True, format="iso")


# (source service, event type) -> data schema. The table of DESIGN.md, as code.
CONTRACT = {
    ("profiles", "profile_registered"): ProfileData,
    ("profiles", "profile_updated"): ProfileData,
    ("profiles", "profile_deactivated"): ProfileData,
    ("profiles", "profile_deleted"): ProfileDeletedData,
    ("profiles", "check_in_missed"): CheckInData,
    ("profiles", "check_in_resumed"): CheckInData,
    ("requests", "request_created"): RequestData,
    ("requests", "request_updated"): RequestData,
    ("requests", "request_closed"): RequestData,
    ("matching", "match_proposed"): MatchData,
    ("matching", "matches_proposed"): MatchesProposedData,
    ("matching", "match_accepted"): MatchData,
    ("matching", "match_confirmed"): MatchData,
    ("matching", "match_rejected"): MatchData,
    ("matching", "match_declined"): MatchData,
    ("matching", "match_expired"): MatchData,
    ("matching", "match_withdrawn"): MatchData,
    ("matching", "match_ended"): MatchData,
    ("notify", "message_sent"): MessageSentData,
    ("campaigns", "letter_translation_needed"): LetterTranslationNeededData,
    ("campaigns", "campaign_changed"): CampaignData,
    ("campaigns", "campaign_ask_posted"): CampaignAskData,
    ("campaigns", "supporter_email_given"): SupporterEmailData,
    ("campaigns", "supporter_updates_changed"): SupporterUpdatesData,
    ("campaigns", "campaign_news"): CampaignNewsData,
    ("campaigns", "campaign_owners_told"): CampaignOwnersToldData,
}


# Event types whose data changed shape get a schema version of their own; the rest are 1.
SCHEMA_VERSIONS = {("matching", "matches_proposed"): 2}

# Reused for every event, as the data schemas are (data_schema).
ENVELOPE = Envelope()

@functools.lru_cache(maxsize=None)
def data_schema(source, event_type):
    """The contract's schema of one event type's data. One instance each, reused by every load and
    dump: a marshmallow schema keeps no state between calls, and building one cost more than
    loading the event (a tenth of notify's time per event, measured with py-spy)."""
    try:
        return CONTRACT[(source, event_type)]()
    except KeyError:
        raise ValueError(f"{source}.{event_type} is not in the event contract") from None


# A match's id is derived from its request and its volunteer: proposing the same volunteer for the
# same request twice is the same match, and anyone can check which request and volunteer an id is
# for (an author's signed decision names the match: it cannot be moved to another volunteer).
def make_event(source, event_type, data, occurred_at=None):
    """Build a validated envelope ready to store in an outbox and publish."""
    schema = data_schema(source, event_type)
    unknown = sorted(set(data) - set(schema.fields))
    if unknown:
        raise ValueError(f"{event_type} data has fields outside the contract: {unknown}")
    dumped = schema.dump(data)
    errors = schema.validate(dumped)
    if errors:
        raise ValueError(f"{event_type} data breaks the contract: {errors}")
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": isoformat(occurred_at or utcnow()),
        "schema_version": SCHEMA_VERSIONS.get((source, event_type), SCHEMA_VERSION),
        "data": dumped,
    }
    traceparent = tracecontext.current()
    if traceparent:
        event["traceparent"] = traceparent
    return event


class Event:
    """A parsed, validated event: envelope fields plus the loaded data."""

    __slots__ = ("event_id", "event_type", "occurred_at", "schema_version", "data")

    def __init__(self, event_id, event_type, occurred_at, schema_version, data):
        self.event_id = event_id
        self.event_type = event_type
        self.occurred_at = occurred_at
        self.schema_version = schema_version
        self.data = data


def parse_event(source, event_type, payload):
    """Validate an incoming payload against the contract. Raises marshmallow.ValidationError."""
    envelope = ENVELOPE.load(payload)
    if envelope["event_type"] != event_type:
        raise ValidationError({"event_type": [f"Expected {event_type}."]})
    if envelope["schema_version"] != SCHEMA_VERSIONS.get((source, event_type), SCHEMA_VERSION):
        raise ValidationError({"schema_version": [f"Unsupported version {envelope['schema_version']}."]})
    data = data_schema(source, event_type).load(envelope["data"])
    return Event(str(envelope["event_id"]), event_type, envelope["occurred_at"],
                 envelope["schema_version"], data)
