"""The campaigns' use cases in milliseconds, over the in-memory stores (memory.py, held to the real
stores' contract): each promise of DESIGN's "Holding under a state adversary" as a rule, beside the
end-to-end tests that play the same attacks through the gateway (tests/e2e/test_campaigns.py)."""
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from services.campaigns import memory
from services.campaigns.workflow import CampaignWorkflow
from services.common.errors import Conflict, Forbidden, NotFound, TooManyRequests
from services.common.trust.sealing import Sealer, generate_keypair

START = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)  # the first second of a period of 600 s
FAMILY = {"account_id": "family", "role": "activist", "handle": "mother", "verified": False}
LAWYER = {"account_id": "lawyer", "role": "volunteer", "handle": "lawyer-k", "verified": True}
NGO = {"account_id": "ngo", "role": "activist", "handle": "ngo-x", "verified": False}
MODERATOR = {"account_id": "mod", "role": "moderator", "handle": "mod", "verified": False}
WRITER = {"account_id": "writer", "role": "volunteer", "handle": "w", "verified": False}
NEW = {"title": "Free the two doctors", "story": "Two doctors held since spring for treating the wounded.",
       "language": "fa", "prisoner_country": "IR", "prisoner": {"name": "Dr. Example"},
       "consent": {"name": "public"}}


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


class Recorded:
    """A store whose calls are counted by name: the work a use case asks of it."""

    def __init__(self, store):
        self.store, self.calls = store, Counter()

    def __getattr__(self, name):
        attribute = getattr(self.store, name)
        if callable(attribute):
            def call(*args, **kwargs):
                self.calls[name] += 1
                return attribute(*args, **kwargs)
            return call
        return attribute


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def world(clock):
    """The workflow over in-memory stores, and what it published."""
    stores = memory.stores()
    campaigns = Recorded(stores[0])
    published = []
    _, public = generate_keypair()
    work = CampaignWorkflow((campaigns,) + stores[1:], (None, b"k" * 32, Sealer(public)),
                            lambda event_type, payload: published.append(payload), counts_every_s=600, clock=clock)
    work.published, work.campaigns = published, campaigns
    return work


def events(work, event_type):
    return [e for e in work.published if e["event_type"] == event_type]


def started(work, **fields):
    return work.create_campaign(FAMILY, dict(NEW, **fields))["id"]


def test_a_signatures_answer_is_the_same_work_whether_its_email_signed_before_or_not(world):
    campaign_id = started(world)
    world.sign_campaign(campaign_id, {"country": "DE", "email": "known@example.org"})
    world.take_signatures()
    world.campaigns.calls.clear()
    assert world.sign_campaign(campaign_id, {"country": "DE", "email": "known@example.org"}) == {"received": True}
    known = Counter(world.campaigns.calls)
    world.campaigns.calls.clear()
    assert world.sign_campaign(campaign_id, {"country": "DE", "email": "new@example.org"}) == {"received": True}
    assert world.campaigns.calls == known == Counter(find_plain=1, receive_signature=1)
    # Afterwards, on the timer's schedule: one email signs once, the new one is asked to confirm.
    world.take_signatures()
    assert world.campaigns.store.campaigns[campaign_id]["support"]["total"] == 2
    assert len(events(world, "supporter_email_given")) == 2
    stored = list(world.campaigns.store.signatures.values())
    assert all(s["signed_on"] == "2026-12-05" and "signed_at" not in s for s in stored)


def test_the_public_counts_change_only_when_a_period_begins(world, clock):
    campaign_id = started(world)
    world.publish_counts()  # the period's publication: nothing signed yet
    clock.now = START + timedelta(seconds=300)  # a quiet spell, then someone signs
    world.sign_campaign(campaign_id, {"country": "DE"})
    world.take_signatures()
    for seconds in (301, 305, 599):
        clock.now = START + timedelta(seconds=seconds)
        world.publish_counts()
        assert world.get_campaign(None, campaign_id)["support"]["total"] == 0
    clock.now = START + timedelta(seconds=600)
    world.publish_counts()
    shown = world.campaigns.store.campaigns[campaign_id]["support_shown"]
    assert shown["total"] == 1  # published, then rounded for the public (below 5: 0)


def test_a_quiet_campaigns_translation_need_waits_for_an_owners_yes_and_nothing_leaves_a_paused_one(world):
    campaign_id = started(world, mode="quiet")
    letter_id = world.write_letter(WRITER, campaign_id, {"text": "We think of you every single day, stay strong.",
                                                         "language": "en"})["id"]
    world.moderate_letter(MODERATOR, letter_id, {"decision": "approve"})
    assert events(world, "letter_translation_needed") == []
    assert world.campaign_letters(FAMILY, campaign_id)["items"][0]["translation_awaits_owner"] is True
    world.update_campaign(FAMILY, campaign_id, {"mode": "paused"})
    with pytest.raises(Conflict):
        world.ask_translation(FAMILY, campaign_id, letter_id)
    with pytest.raises(Conflict):
        world.post_ask(FAMILY, campaign_id, {"title": "Cover the trial", "body": "Journalists, please cover it.",
                                             "skills": ["press"], "languages": ["en"]})
    world.update_campaign(FAMILY, campaign_id, {"mode": "quiet"})
    world.ask_translation(FAMILY, campaign_id, letter_id)
    (needed,) = events(world, "letter_translation_needed")
    assert needed["data"]["author_id"] == "family"
    with pytest.raises(Conflict):
        world.ask_translation(FAMILY, campaign_id, letter_id)


def test_a_new_status_is_the_owners_alone_until_one_confirms_it(world):
    campaign_id = started(world)
    world.update_campaign(FAMILY, campaign_id, {"prisoner_status": "sentenced"})
    seen = world.get_campaign(None, campaign_id)
    assert seen["prisoner_status"] == "detained" and seen["prisoner"] == {}
    assert world.get_campaign(FAMILY, campaign_id)["status_pending"] == "sentenced"
    assert events(world, "campaign_news") == []
    assert [e["data"]["prisoner_status"] for e in events(world, "campaign_changed")] == ["detained", "detained"]
    world.update_campaign(FAMILY, campaign_id, {"consent_confirmed": True})
    assert world.get_campaign(None, campaign_id)["prisoner_status"] == "sentenced"
    assert len(events(world, "campaign_news")) == 1


def test_co_owners_are_seen_removed_and_their_codes_revoked_on_the_owner_log(world):
    campaign_id = started(world)
    codes = [world.invite_owner(FAMILY, campaign_id) for _ in range(3)]
    world.join_as_owner(LAWYER, campaign_id, {"code": codes[0]["code"]})
    world.join_as_owner(NGO, campaign_id, {"code": codes[1]["code"]})
    with pytest.raises(Forbidden):
        world.invite_owner(LAWYER, campaign_id)
    with pytest.raises(Forbidden):
        world.remove_owner(LAWYER, campaign_id, "ngo-x")
    with pytest.raises(Forbidden):
        world.revoke_invitation(LAWYER, campaign_id, codes[2]["ref"])
    world.revoke_invitation(FAMILY, campaign_id, codes[2]["ref"])
    with pytest.raises(NotFound):
        world.join_as_owner(WRITER, campaign_id, {"code": codes[2]["code"]})
    world.remove_owner(FAMILY, campaign_id, "ngo-x")
    world.remove_owner(LAWYER, campaign_id, "lawyer-k")  # leaves
    seen = world.get_campaign(FAMILY, campaign_id)
    assert seen["co_owners"] == [{"handle": "mother", "creator": True}]
    assert [(line["by"], line["action"]) for line in seen["owner_log"][:3]] == [
        ("lawyer-k", "left"), ("mother", "removed"), ("mother", "revoked_invitation")]
    with pytest.raises(Forbidden):  # no longer an owner
        world.update_campaign(NGO, campaign_id, {"mode": "paused"})


def test_a_translation_reaches_the_owners_only_once_a_moderator_approved_it(world):
    campaign_id = started(world)
    letter_id = world.write_letter(WRITER, campaign_id, {"text": "We think of you every single day, stay strong.",
                                                         "language": "en"})["id"]
    world.moderate_letter(MODERATOR, letter_id, {"decision": "approve"})
    world.letter_store.letters[letter_id]["translator_id"] = "translator"  # as a confirmed match sets it
    translator = dict(LAWYER, account_id="translator")
    world.translate_letter(translator, letter_id, {"text": "ما هر روز به شما فکر می‌کنیم، استوار بمانید."})
    assert world.campaign_letters(FAMILY, campaign_id)["items"][0]["translation"] is None
    assert [t["id"] for t in world.translations_to_moderate(MODERATOR)["items"]] == [letter_id]
    with pytest.raises(Forbidden):
        world.translations_to_moderate(FAMILY)
    world.moderate_translation(MODERATOR, letter_id, {"decision": "approve"})
    assert world.campaign_letters(FAMILY, campaign_id)["items"][0]["translation"].startswith("ما هر روز")


def test_an_account_starts_a_bounded_number_of_campaigns(world):
    for _ in range(5):
        started(world)
    with pytest.raises(TooManyRequests):
        started(world)


def test_calls_that_need_no_detail_about_the_prisoner_never_open_it(world):
    campaign_id = started(world)
    world.campaigns.calls.clear()
    world.sign_campaign(campaign_id, {"country": "DE"})
    world.write_letter(WRITER, campaign_id, {"text": "We think of you every single day, stay strong.",
                                             "language": "en"})
    world.pledge(WRITER, campaign_id, {"action": "An article in our weekly"})
    world.post_to_wall(FAMILY, campaign_id, {"text": "We wait for you."})
    world.invite_owner(FAMILY, campaign_id)
    world.campaign_pledges(FAMILY, campaign_id)
    world.set_disputed(MODERATOR, campaign_id, {"disputed": True, "note": "A relative objects."})
    assert world.campaigns.calls["find"] == 0 and world.campaigns.calls["find_plain"] == 7


def test_a_verified_professional_is_counted_apart_once(world):
    campaign_id = started(world)
    world.on_profile_changed({"profile_id": "lawyer", "role": "volunteer", "verified": True, "status": "active",
                              "skills": ["legal"], "version": 1})
    assert world.endorse_campaign(LAWYER, campaign_id) == {"counted_as": ["lawyers"], "new": True}
    assert world.endorse_campaign(LAWYER, campaign_id) == {"counted_as": ["lawyers"], "new": False}
    with pytest.raises(Forbidden):
        world.endorse_campaign(dict(LAWYER, account_id="someone"), campaign_id)


def test_an_owners_missed_check_in_is_relayed_to_the_other_owners_of_the_campaigns_they_chose(world, clock):
    chosen, other = started(world), started(world, title="Another campaign")
    code = world.invite_owner(FAMILY, chosen)["code"]
    world.join_as_owner(NGO, chosen, {"code": code})
    data = {"profile_id": "family", "helpers": [], "campaigns": [chosen, "not-theirs"],
            "message_sealed": "sealed-to-notify", "at": clock.now}
    world.on_check_in("check_in_missed", data)
    [told] = events(world, "campaign_owners_told")
    assert (told["data"]["campaign_id"], told["data"]["owner_ids"], told["data"]["kind"]) == (chosen, ["ngo"], "missed")
    assert told["data"]["message_sealed"] == "sealed-to-notify"  # as it came: only notify opens it
    assert world.get_campaign(FAMILY, chosen)["owner_log"][0]["action"] == "check_in_missed"
    assert world.get_campaign(FAMILY, other)["owner_log"][0]["action"] == "created"  # not chosen: untouched
    world.on_check_in("check_in_resumed", dict(data, message_sealed=None))
    assert [e["data"]["kind"] for e in events(world, "campaign_owners_told")] == ["missed", "resumed"]
