"""`./dev bench soak`: the whole platform at a steady rate for a long while; what leaks, what is lost.

Starts the platform as processes (tests/e2e/platform.py) on the running local stack, on a vhost
of its own, with an SMTP sink; signs up an activist and enough volunteer lawyers (with email,
room for 20 proposals each) for every need to be proposed; then posts a legal need every 1/rate
seconds for `--minutes`. At the end it waits for the pipeline to settle and reports:
- each process's memory (resident set, summed over the process group: a service, a server)
  after the warm-up and at the end, and the CPU seconds it used;
- the counts, straight from each service's store (tests/faults/outcomes.py): needs sent,
  accepted, stored, indexed, proposed, notified in the app, emailed, duplicated, dead-lettered,
  still queued; and the p50/p99 of the gateway's answer to each post.

    ./dev bench soak [--minutes 10] [--rate 2]
"""
import argparse
import collections
import os
import signal
import sys
import tempfile
import threading
import time
import uuid

import requests
from nameko.testing.rabbit import Client as RabbitClient
from tqdm import tqdm

from bench.pipeline import cpu_seconds, memory_mb, percentile, process_groups
from services.notify.tests.sink import SmtpSink, free_port
from tests.e2e.platform import Client, Platform
from tests.faults.outcomes import Outcomes, post_need

PROPOSALS_EACH = 20  # the most open proposals a volunteer may have (profiles' max_active_matches)


def post_steadily(author, rate, seconds, accepted, refused, latencies):
    """One need every 1/rate s from this thread, for `seconds`; one try each, as a person would."""
    deadline = time.monotonic() + seconds
    interval = 1 / rate
    next_at = time.monotonic()
    with tqdm(total=int(seconds * rate), unit="need", file=sys.stderr) as bar:
        while next_at < deadline:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            started = time.monotonic()
            try:
                response = post_need(author)
                latencies.append(time.monotonic() - started)
                if response.status_code == 201:
                    accepted.append(response.json()["id"])
                else:
                    refused[response.status_code] += 1
            except requests.RequestException as exc:
                refused[type(exc).__name__] += 1
            bar.update()


def main(argv):
    parser = argparse.ArgumentParser(prog="./dev bench soak")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=2.0, help="needs posted per second")
    parser.add_argument("--settle", type=float, default=300, help="seconds to wait for the pipeline to settle")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    volunteers = int(seconds * args.rate / PROPOSALS_EACH) + 5

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as logs, tempfile.TemporaryDirectory() as mail:
        smtp_port = free_port()
        sink = SmtpSink(mail, port=smtp_port).start()
        platform = Platform(RabbitClient(os.environ["RABBIT_MGMT_URI"]), os.environ["AMQP_URI"], logs,
                            MATCH_TOP_K=1, SMTP_PORT=smtp_port)
        outcomes = None
        try:
            platform.start()
            outcomes = Outcomes(platform, sink, top_k=1)
            author = Client(platform).sign_up(f"soak-author-{uuid.uuid4().hex[:6]}", "activist")
            print(f"signing up {volunteers} volunteers", file=sys.stderr)
            for n in tqdm(range(volunteers), unit="volunteer", file=sys.stderr):
                volunteer = Client(platform).sign_up(f"soak-lawyer-{n}-{uuid.uuid4().hex[:6]}", "volunteer",
                                                     email=f"lawyer{n}-{uuid.uuid4().hex[:6]}@example.org")
                volunteer.call("PUT", "/api/me/profile", {
                    "skills": ["legal"], "languages": ["fa"], "countries": ["IR"], "availability_hours": 10,
                    "max_active_matches": PROPOSALS_EACH}).raise_for_status()
            while outcomes.volunteers_known() < volunteers:
                time.sleep(0.5)
            groups = process_groups(platform)
            memory_start, cpu_start = memory_mb(groups), cpu_seconds(groups)

            accepted, refused, latencies = [], collections.Counter(), []
            print(f"posting {args.rate}/s for {args.minutes} min", file=sys.stderr)
            poster = threading.Thread(target=post_steadily,
                                      args=(author, args.rate, seconds, accepted, refused, latencies))
            started = time.monotonic()
            poster.start()
            poster.join()
            posting_s = time.monotonic() - started

            deadline = time.monotonic() + args.settle
            while True:
                counts = outcomes.count(author.account["id"], accepted)
                if Outcomes.settled(counts) or time.monotonic() > deadline:
                    break
                time.sleep(2)
            settled_s = time.monotonic() - started - posting_s
            memory_end, cpu_end = memory_mb(groups), cpu_seconds(groups)
            report(args, counts, refused, latencies, posting_s, settled_s, Outcomes.settled(counts),
                   groups, memory_start, memory_end, {n: cpu_end[n] - cpu_start[n] for n in groups})
            return 0 if Outcomes.settled(counts) and not any(counts["duplicated"].values()) else 1
        finally:
            if outcomes is not None:
                outcomes.close()
            platform.stop()
            sink.stop()


def report(args, counts, refused, latencies, posting_s, settled_s, settled, groups, memory_start, memory_end, cpu):
    sent = counts["accepted"] + sum(refused.values())
    print(f"\nsoak: {args.rate}/s for {args.minutes} min ({posting_s:.0f} s), then "
          f"{'settled' if settled else 'NOT settled'} {settled_s:.0f} s after the last post")
    print(f"  needs sent {sent}, accepted {counts['accepted']} (refused: {dict(refused) or 'none'}), "
          f"lost {counts['lost']}")
    print(f"  stored {counts['stored']}, indexed {counts['indexed']}, proposed {counts['proposed']} "
          f"({counts['proposals']} proposals), notified {counts['notified']}, emailed {counts['emailed']}")
    print(f"  duplicated {counts['duplicated']}, dead-lettered {counts['dead_lettered']}, "
          f"still queued {counts['queued']}")
    print(f"  POST /api/requests p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms")
    print("\n| process | memory after warm-up (MB) | memory at end (MB) | CPU s |")
    print("|---|---|---|---|")
    for name in groups:
        print(f"| {name} | {memory_start[name]:.0f} | {memory_end[name]:.0f} | {cpu[name]:.0f} |")
