"""What one action costs the platform, counted on the whole platform as processes (bench/counts.py):
store commands per service and handler, broker deliveries. Counts, not times: they do not depend
on the machine, so a change that adds work to a path fails here. The ceilings are this round's
figures (docs/performance.md, `./dev bench counts`); a change that removes work lowers them.
"""
import tempfile

import pytest

from bench.counts import Meter, measure_all, start_platform, stop_platform

TOP_K = 5
# (store commands, broker deliveries) per action, as measured on 2026-12-03 (issue 19's goal for a
# need is 20 and 8; it was 86.5 and 17 before one event per top-up, 41.4 before notify's person
# document, its batch's one "sent" write and its request and profile handlers without a ledger,
# 28.9 before the outbox's pending flag on the document replaced its marker collection, 26.6
# before notify read a batch's recipients in one `$in`, which FerretDB serves with the project's
# patch, scripts/ferretdb-in-pushdown.patch).
CEILINGS = {
    # campaigns keeps what a verified volunteer counts as (a journalist, a lawyer, a policy-maker)
    # for its separate count: one versioned write per profile event, one delivery each. 38 since
    # the sign-up asks whether a deleted account still holds the handle and counts the sign-up
    # against its source in profiles' store (shared by every gateway replica): one command each.
    "volunteer signs up and fills in a profile": (38, 16),
    "volunteer edits their profile": (17, 8),
    # 20 (requests 3, notify 8, matching 7, search 2), and up to 24: search spends 3 more when the
    # proposals overtake the need (two queues, no order between them), profiles 1 when the
    # author's session is not in the gateway's cache (a call within SESSION_CACHE_S of the last),
    # with 9 deliveries instead of 7. Four needs are measured here, so one such need moves the
    # mean by a whole command: the ceiling is the worst case and one more.
    f"need posted, {TOP_K} proposals": (25, 9),
    # The answer: read the campaign, keep what was received (one insert, whoever signs). The same
    # with 100 signatures before it as with none (DESIGN, "Cost that does not grow with history").
    # Counting it is take_signatures' (test_a_signature_is_counted_after_its_answer...).
    "supporter signs a campaign": (2, 2),
    # With an email: notify's two writes (the sealed address, the confirmation email, whose
    # sending is the timer's) for the event the counting publishes: one event more on the bus.
    "supporter signs with an email for news": (4, 3),
    "supporter signs with an email that signed before": (2, 3),
    # Read the campaign, insert the letter (sealed); approving: read the letter and its campaign,
    # the conditional write. The same with 25 letters before it as with none. Each call by a
    # signed-in person costs one command and two deliveries more (profiles' resolve_session) when
    # the session is not in the gateway's cache (half the calls, measured: 2.5 and 3.5 commands).
    "supporter writes a letter": (3, 4),
    "moderator approves a letter": (4, 4),
}


@pytest.fixture(scope="module")
def counted(rabbit_manager, request, tmp_path_factory):
    logs = str(tmp_path_factory.mktemp("platform-logs"))
    with tempfile.TemporaryDirectory() as counts_dir:
        platform = start_platform(logs, counts_dir, TOP_K, rabbit_manager, request.config.getoption("RABBIT_AMQP_URI"))
        try:
            yield measure_all(platform, Meter(platform, counts_dir), requests=4, open_needs=10, top_k=TOP_K)
        finally:
            stop_platform(platform)


@pytest.mark.parametrize("action", sorted(CEILINGS))
def test_an_action_costs_no_more_than_this_rounds_count(counted, action):
    commands, deliveries = CEILINGS[action]
    result = counted[action]
    assert result["commands"] <= commands, result
    assert result["broker"]["deliveries"] <= deliveries, result


def test_a_profile_edit_costs_matching_the_same_whatever_the_editor_has_pending(counted):
    """An edit of nothing that decides fit (a bio) re-checks none of the editor's pending
    proposals (10 here, one per open need) and reads none of the needs that hold their k."""
    result = counted["volunteer edits their profile"]
    assert result["by_service"]["matching"] <= 7, result


def test_a_signatures_answer_costs_the_same_whether_its_email_signed_before_or_not(counted):
    """What a signer waits for is the same work on both paths (DESIGN, "Holding under a state
    adversary"): the campaigns service's commands during the call. What differs (a new signature
    stored, counted, its confirmation asked) is done after the answer, on take_signatures' schedule."""
    new = counted["supporter signs with an email for news"]
    again = counted["supporter signs with an email that signed before"]
    assert new["by_service"]["campaigns"] == again["by_service"]["campaigns"] == 2, (new, again)
    # Counting: insert, outbox read and clear, marked counted, added to the counts, the received
    # item deleted (a page at a time); a known email: the refused insert, the mark that finds nothing.
    assert 0 < again["after_answer"] < new["after_answer"] <= 7, (new, again)
