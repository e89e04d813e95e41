"""`./dev bench day`: a day in the life, compressed, to see whether cost grows with history.

The whole platform as processes, with proposals expiring quickly (`--expiry`, seconds). For
`--minutes`, every second: needs are posted at `--rate`; volunteers open their inbox (a page of
notifications, as a person does) and answer what they were proposed (30% yes, 20% no, the rest
never: those expire and the next volunteer is asked); authors confirm or reject the yeses they
are told of; every few seconds a volunteer signs up, another edits their profile and someone
searches; past a stock of open needs (`--open-per-author`, 6 authors) each new need closes its
author's oldest, so the work a need causes while open (proposals expiring, the next asked) stays
at the same level and a rise across quarters can only come from history. Each quarter of the run reports, per need posted:
store commands (every service, timers included: pymongo's command monitoring), broker deliveries
(RabbitMQ's counters) and CPU ms of every process (services and servers). Flat across quarters
means the cost does not grow with what the run left behind (open needs waiting, proposals nobody
answered, volunteers' histories). At the end, after a pause, what is still queued is the backlog.

    ./dev bench day [--minutes 8] [--rate 2] [--volunteers 40] [--expiry 90] [--open-per-author 20]
"""
import argparse
import random
import tempfile
import time
import uuid
from collections import Counter

from bench.counts import PROFILE, broker_counts, start_platform, stop_platform, volunteer
from bench.pipeline import cpu_seconds, process_groups
from services.common.store import commandcount
from tests.e2e.platform import Client

SKILLS = ["legal", "press", "translation", "digital-security"]
LANGUAGES = ["fa", "ar", "ru", "en"]


class Day:
    def __init__(self, platform, counts_dir, args):
        self.platform, self.counts_dir, self.args = platform, counts_dir, args
        self.prefix = platform.config["DB_PREFIX"] + "_"
        # The platform's processes: the SMTP sink stands in for a mail relay outside it.
        self.groups = {name: group for name, group in process_groups(platform).items() if name != "smtp sink"}
        self.authors = [Client(platform).sign_up(f"family-{uuid.uuid4().hex[:6]}", "activist") for _ in range(6)]
        self.volunteers = [self.new_volunteer() for _ in range(args.volunteers)]
        self.open_needs = {author.account["id"]: [] for author in self.authors}
        self.decided = set()  # match ids answered or left unanswered for good
        self.posted = 0

    def new_volunteer(self):
        profile = dict(PROFILE, skills=random.sample(SKILLS, 2),
                       languages=sorted(set(random.sample(LANGUAGES, 2)) | {"en"}), bio="Helps with cases.")
        person = volunteer(self.platform, profile)
        person.profile = profile
        return person

    def post_need(self):
        author = random.choice(self.authors)
        response = author.call("POST", "/api/requests", {
            "title": "Help needed with a case", "body": "A family asks for help with a case.",
            "skills": [random.choice(SKILLS)], "languages": [random.choice(LANGUAGES)], "country": "IR",
            "urgency": random.choice(["normal", "high", "critical"]), "visibility": "public"})
        if response.status_code == 201:
            needs = self.open_needs[author.account["id"]]
            needs.append(response.json()["id"])
            self.posted += 1
            if len(needs) > self.args.open_per_author:  # needs close as fast as they come, past a stock
                author.call("POST", f"/api/requests/{needs.pop(0)}/close", {"outcome": "withdrawn"})

    def inbox(self, person, kind):
        items = person.call("GET", "/api/notifications", limit=20).json().get("items", [])
        return [n for n in items if n.get("kind") == kind and n.get("match_id") and n["match_id"] not in self.decided]

    def volunteer_answers(self):
        person = random.choice(self.volunteers)
        for notification in self.inbox(person, "match_proposed"):
            self.decided.add(notification["match_id"])
            roll = random.random()
            if roll < 0.3:
                person.call("POST", f"/api/matches/{notification['match_id']}/accept")
            elif roll < 0.5:
                person.call("POST", f"/api/matches/{notification['match_id']}/decline", {})

    def author_decides(self):
        author = random.choice(self.authors)
        for notification in self.inbox(author, "match_accepted"):
            self.decided.add(notification["match_id"])
            verdict = "confirm" if random.random() < 0.7 else "reject"
            author.call("POST", f"/api/matches/{notification['match_id']}/{verdict}")

    def edit_profile(self):
        person = random.choice(self.volunteers)
        person.call("PUT", "/api/me/profile", dict(person.profile, bio=f"Helps with cases ({uuid.uuid4().hex[:4]})."))

    def search(self):
        Client(self.platform).call("GET", "/api/search/requests", skill=random.choice(SKILLS))

    def snapshot(self):
        """(commands, deliveries, CPU seconds, needs posted, {(service, entrypoint): commands})."""
        handlers = Counter()
        for (database, entrypoint, _), n in commandcount.read_dir(self.counts_dir).items():
            if database.startswith(self.prefix):
                handlers[(database[len(self.prefix):], entrypoint)] += n
        return sum(handlers.values()), broker_counts(self.platform)["deliveries"], \
            sum(cpu_seconds(self.groups).values()), self.posted, handlers

    def run_for(self, seconds):
        start = time.monotonic()
        tick = 0
        while time.monotonic() - start < seconds:
            began = time.monotonic()
            for _ in range(self.args.rate):
                self.post_need()
            self.volunteer_answers()
            self.volunteer_answers()
            self.author_decides()
            if tick % 10 == 0:
                self.volunteers.append(self.new_volunteer())
            if tick % 5 == 0:
                self.edit_profile()
                self.search()
            tick += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))

    def backlog(self):
        return sum(queue.get("messages", 0) for queue in self.platform.rabbit_manager.get_queues(self.platform.vhost))


def main(argv):
    parser = argparse.ArgumentParser(prog="./dev bench day")
    parser.add_argument("--minutes", type=float, default=8)
    parser.add_argument("--rate", type=int, default=2)
    parser.add_argument("--volunteers", type=int, default=40)
    parser.add_argument("--expiry", type=int, default=90)
    parser.add_argument("--open-per-author", type=int, default=20,
                        help="each of the 6 authors keeps this many needs open; past it, their oldest closes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as logs, tempfile.TemporaryDirectory() as counts_dir:
        platform = start_platform(logs, counts_dir, top_k=3, MATCH_EXPIRY_S=args.expiry,
                                  EXPIRY_REMINDER_BEFORE_S=args.expiry // 3)
        try:
            day = Day(platform, counts_dir, args)
            rows = []
            before = day.snapshot()
            for quarter in range(1, 5):
                day.run_for(args.minutes * 60 / 4)
                after = day.snapshot()
                needs = max(1, after[3] - before[3])
                rows.append({"quarter": quarter, "needs": after[3] - before[3],
                             "commands": (after[0] - before[0]) / needs, "deliveries": (after[1] - before[1]) / needs,
                             "cpu_ms": 1000 * (after[2] - before[2]) / needs,
                             "handlers": {key: (after[4][key] - before[4][key]) / needs for key in after[4]}})
                before = after
            time.sleep(20)  # let what is in flight settle
            backlog = day.backlog()
        finally:
            stop_platform(platform)
    print(f"\na day in {args.minutes:g} minutes: {args.rate} needs/s, proposals expire after {args.expiry} s, "
          f"{args.volunteers} volunteers at the start and one more every 10 s, "
          f"{6 * args.open_per_author} needs kept open")
    print(f"{'quarter':>8} {'needs':>6} {'commands/need':>14} {'deliveries/need':>16} {'CPU ms/need':>12}")
    for row in rows:
        print(f"{row['quarter']:>8} {row['needs']:>6} {row['commands']:>14.1f} {row['deliveries']:>16.1f} "
              f"{row['cpu_ms']:>12.0f}")
    first, last = rows[0], rows[-1]
    print("last / first: " + ", ".join(f"{key} {last[key] / first[key]:.2f}" for key in ("commands", "deliveries", "cpu_ms")
                                       if first[key]))
    print(f"still queued 20 s after the last action: {backlog} messages")
    # Where a rise comes from: the handlers (and timers) whose commands per need changed most
    # between the second quarter (the first with expiries) and the last.
    second = rows[1]["handlers"]
    moved = sorted(last["handlers"], key=lambda key: -abs(last["handlers"][key] - second.get(key, 0)))[:8]
    print("commands per need by handler, quarters 1-4:")
    for service, entrypoint in moved:
        figures = "  ".join(f"{row['handlers'].get((service, entrypoint), 0):6.1f}" for row in rows)
        print(f"  {service:<10} {entrypoint or '(start-up)':<34} {figures}")
    return 0
