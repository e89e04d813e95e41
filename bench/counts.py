"""`./dev bench counts`: what one action costs, counted, on the whole platform as processes.

Counts do not depend on the machine, so they are compared across rounds and asserted in a test
(tests/e2e/test_costs.py): store commands per service and handler (pymongo's command monitoring
in every process, services/common/store/commandcount.py; the timers' ticks are counted apart and left
out), and broker deliveries and publishes (RabbitMQ's own per-queue counters, on the platform's
vhost). The actions: a volunteer signing up and filling in their profile, a volunteer editing
their profile, a need posted through the gateway that k volunteers fit (each proposed, notified in
the inbox, and the need indexed), one at a time, a supporter signing a campaign that already
holds many signatures, a supporter writing a letter to it and a moderator approving one.

    ./dev bench counts [--requests 8] [--open-needs 30]
"""
import argparse
import os
import tempfile
import time
import uuid
from collections import Counter

from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.rabbit import Client as RabbitClient

from services.common.store import commandcount
from services.common.store import mongo
from services.notify.tests.sink import SmtpSink
from bench.pipeline import observe
from tests.e2e.platform import Client, Platform
from tests.support import operator_command, wait_until

NEED = {"title": "A lawyer for an asylum appeal", "body": "A family needs a lawyer who reads Persian for an appeal.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public"}
CAMPAIGN = {"title": "Free the two doctors", "story": "Two doctors held for treating wounded protesters.",
            "language": "fa", "prisoner_country": "IR"}
LETTER = {"text": "We think of you every day; you are not forgotten.", "language": "fa"}
PROFILE = {"skills": ["legal"], "languages": ["fa", "en"], "countries": ["IR"], "bio": "Asylum lawyer.",
           "availability_hours": 10, "max_active_matches": 20}
# Long enough for RabbitMQ's statistics (sampled every 5 s) and each process's counts file (written
# at most once a second, on its next command) to catch up.
SETTLE_S = 7
# Timers whose work belongs to the actions that gave it (a signature is answered at once and counted
# by this timer): counted apart, as `after_answer`, but for the read of each batch (one per tick,
# whatever arrived; the other timers are the platform's upkeep and not counted at all).
AFTER_ANSWER = {"timer:take_signatures"}


def broker_counts(platform):
    """Deliveries and publishes so far, summed over the vhost's queues."""
    totals = Counter()
    for queue in platform.rabbit_manager.get_queues(platform.vhost):
        stats = queue.get("message_stats") or {}
        totals["deliveries"] += stats.get("deliver_get", 0)
        totals["publishes"] += stats.get("publish", 0)
    return totals


class Meter:
    """Counts of one platform's store commands (by service and handler) and broker traffic."""

    def __init__(self, platform, counts_dir):
        self.platform, self.counts_dir = platform, counts_dir
        self.prefix = platform.config["DB_PREFIX"] + "_"

    def snapshot(self):
        time.sleep(SETTLE_S)
        commands, later = Counter(), Counter()
        for (database, entrypoint, command), n in commandcount.read_dir(self.counts_dir).items():
            if not database.startswith(self.prefix):
                continue
            if entrypoint in AFTER_ANSWER and command != "find":
                later[database[len(self.prefix):]] += n
            elif not entrypoint.startswith("timer:"):
                where = entrypoint if entrypoint != "-" else f"(no worker: {command})"
                commands[(database[len(self.prefix):], where)] += n
        return commands, later, broker_counts(self.platform)

    def measure(self, action, times):
        """Per action: ({(service, handler): commands}, {service: commands}, total, broker)."""
        commands_before, later_before, broker_before = self.snapshot()
        action()
        commands_after, later_after, broker_after = self.snapshot()
        by_handler = {key: (commands_after[key] - commands_before[key]) / times for key in commands_after
                      if commands_after[key] != commands_before[key]}
        by_service = Counter()
        for (service, _handler), n in by_handler.items():
            by_service[service] += n
        broker = {key: (broker_after[key] - broker_before[key]) / times for key in ("deliveries", "publishes")}
        after_answer = sum(later_after.values()) - sum(later_before.values())
        return {"by_handler": by_handler, "by_service": dict(by_service), "commands": sum(by_service.values()),
                "after_answer": after_answer / times, "broker": broker}


def appointed(platform, client, role):
    """What an operator does (`./dev admin grant-role`); the person signs in again to take it up."""
    with ClusterRpcProxy(platform.config, timeout=20) as rpc:
        rpc.profiles.grant_role(operator_command({"handle": client.account["handle"], "role": role}, platform.config))
    return client.sign_in_again()


def volunteer(platform, profile=PROFILE):
    handle = f"lawyer-{uuid.uuid4().hex[:6]}"  # with an email, as volunteers have: each proposal is emailed
    person = Client(platform).sign_up(handle, "volunteer", email=f"{handle}@example.org")
    response = person.call("PUT", "/api/me/profile", profile)
    assert response.status_code == 200, response.text
    return person


def measure_all(platform, meter, requests=8, open_needs=30, top_k=5, signed_before=100):
    """The three actions' counts, with `open_needs` needs already open and holding their k. The
    inboxes are watched in notify's database, not through the API: the watching must cost the
    platform nothing."""
    author = Client(platform).sign_up(f"family-{uuid.uuid4().hex[:6]}", "activist")
    lawyers = [volunteer(platform) for _ in range(top_k)]
    client = mongo.connect(dict(platform.config, STORE_COUNTS_DIR=""))  # the watching is not counted
    notifications = client[f"{platform.config['DB_PREFIX']}_notify"]["notifications"]

    def proposals_to(person):
        return notifications.count_documents({"recipient_id": person.account["id"], "kind": "match_proposed"})

    try:
        for _ in range(open_needs):  # needs waiting for answers: the normal state
            assert author.call("POST", "/api/requests", NEED).status_code == 201
        wait_until(lambda: all(proposals_to(p) >= open_needs for p in lawyers), timeout=300,
                   message="the open needs to reach every lawyer's inbox")
        results = {}
        results["volunteer signs up and fills in a profile"] = meter.measure(
            lambda: [volunteer(platform, dict(PROFILE, skills=["translation"])) for _ in range(requests)], requests)
        results["volunteer edits their profile"] = meter.measure(
            lambda: [lawyers[i % top_k].call("PUT", "/api/me/profile", dict(PROFILE, bio=f"Asylum lawyer {i}."))
                     for i in range(requests)], requests)

        def post_needs():
            for _ in range(requests):
                before = [proposals_to(p) for p in lawyers]
                assert author.call("POST", "/api/requests", NEED).status_code == 201
                wait_until(lambda: all(proposals_to(p) > n for p, n in zip(lawyers, before)), timeout=60,
                           message="a need's proposals to reach every lawyer's inbox")
        results[f"need posted, {top_k} proposals"] = meter.measure(post_needs, requests)

        # A supporter signs a campaign that already holds many signatures: the same few writes.
        campaign_id = author.call("POST", "/api/campaigns", CAMPAIGN).json()["id"]
        supporters = Client(platform)
        for n in range(signed_before):
            supporters.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "DE",
                                                                                 "email": f"before{n}@example.org"})
        results["supporter signs a campaign"] = meter.measure(
            lambda: [supporters.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "FR"})
                     for _ in range(requests)], requests)
        # With an email for news: the address leaves sealed to notify, which asks to confirm it.
        emails = [f"{uuid.uuid4().hex}@example.org" for _ in range(requests)]
        results["supporter signs with an email for news"] = meter.measure(
            lambda: [supporters.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "FR", "email": email})
                     for email in emails], requests)
        # The same emails again: the answer's work is the same as for a new one (a state timing the
        # answers must learn nothing); what differs is done after it, on the timer's schedule.
        results["supporter signs with an email that signed before"] = meter.measure(
            lambda: [supporters.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "FR", "email": email})
                     for email in emails], requests)

        # Letters, on a campaign that already holds many, and a moderators' queue that is not empty.
        writer = Client(platform).sign_up(f"writer-{uuid.uuid4().hex[:6]}", "volunteer")
        for _ in range(signed_before // 4):
            writer.call("POST", f"/api/campaigns/{campaign_id}/letters", LETTER)
        letter_ids = []
        results["supporter writes a letter"] = meter.measure(
            lambda: letter_ids.extend(writer.call("POST", f"/api/campaigns/{campaign_id}/letters", LETTER).json()["id"]
                                      for _ in range(requests)), requests)
        moderator = appointed(platform, Client(platform).sign_up(f"mod-{uuid.uuid4().hex[:6]}", "activist"),
                              "moderator")
        results["moderator approves a letter"] = meter.measure(
            lambda: [moderator.call("POST", f"/api/moderation/letters/{letter_id}/approve") for letter_id in letter_ids],
            requests)
        return results
    finally:
        client.close()


def print_results(results):
    for action, result in results.items():
        later = f" (and {result['after_answer']:.1f} after the answer)" if result.get("after_answer") else ""
        print(f"\n{action}: {result['commands']:.1f} store commands{later}, "
              f"{result['broker']['deliveries']:.1f} broker deliveries, {result['broker']['publishes']:.1f} messages enqueued")
        print("  by service: " + ", ".join(f"{s} {n:.1f}" for s, n in sorted(result["by_service"].items())))
        for (service, handler), n in sorted(result["by_handler"].items()):
            print(f"    {service:9} {handler:28} {n:6.1f}")


def start_platform(logs, counts_dir, top_k=5, rabbit_manager=None, amqp_uri=None, **config):
    """The platform as processes (`config`: settings of its own), its emails going to the project's
    SMTP sink as they would to a relay: the counts are those of emails sent, not of sends failing
    and waiting to be tried again (whose retries would grow run-long). Stop it with `stop_platform`."""
    sink = SmtpSink(os.path.join(logs, "mail")).start()
    try:
        platform = Platform(rabbit_manager or RabbitClient(os.environ["RABBIT_MGMT_URI"]),
                            amqp_uri or os.environ["AMQP_URI"], logs, STORE_COUNTS_DIR=counts_dir, MATCH_TOP_K=top_k,
                            SMTP_PORT=sink.port, **config)
        platform.start()
    except BaseException:
        sink.stop()
        raise
    platform.sink = sink
    return platform


def stop_platform(platform):
    try:
        platform.stop()
    finally:
        platform.sink.stop()


def main(argv):
    parser = argparse.ArgumentParser(prog="./dev bench counts")
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--open-needs", type=int, default=30)
    parser.add_argument("--observability", choices=("on", "off", "both"), default="on",
                        help="every service's metrics and traces (on: as deployed); both: measured with them "
                             "off, then on, in the same run")
    args = parser.parse_args(argv)
    phases = {"on": ["on"], "off": ["off"], "both": ["off", "on"]}[args.observability]
    with tempfile.TemporaryDirectory() as logs, tempfile.TemporaryDirectory() as counts_dir:
        platform = start_platform(logs, counts_dir)
        try:
            measured = {}
            for phase in phases:
                observe(platform, phase)
                print(f"\n== metrics and traces {phase}")
                measured[phase] = measure_all(platform, Meter(platform, counts_dir), args.requests, args.open_needs)
                print_results(measured[phase])
            if len(phases) == 2:
                print("\nstore commands per action, metrics and traces on / off (same run):")
                for action, on in measured["on"].items():
                    off = measured["off"][action]
                    print(f"  {action}: {on['commands']:.1f} / {off['commands']:.1f}; "
                          f"deliveries {on['broker']['deliveries']:.1f} / {off['broker']['deliveries']:.1f}")
        finally:
            stop_platform(platform)
    return 0
