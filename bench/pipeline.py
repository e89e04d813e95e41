"""`./dev bench pipeline`: the whole path a person waits on, with a store already full.

In one run, on the running local stack:
 1. seeds the services' databases straight to production-like sizes (default 100,000 matches,
    10,000 volunteers, 20,000 requests, with the notifications and proposals they imply), with a
    progress bar; the platform's start-up then indexes them as it always does;
 2. starts the whole platform as processes (tests/e2e/platform.py), on a vhost of its own;
 3. measures the raw broker round trip in the same run: persistent messages published with
    confirms, then consumed with acks (kombu, the client the services use);
 4. posts requests through the gateway at increasing rates, and reads each hop's end from what
    the services stored: the gateway's answer (`POST /api/requests`), the request stored
    (requests), the first proposal (matching), its notification in the inbox (notify), and the
    request found in Elasticsearch (search; polled every 100 ms);
 5. taps the bus (a queue of its own bound to `request_created` and `matches_proposed`) and times
    each hop from the event envelope: `occurred_at` (when the service stored the change) and when
    the broker delivered the event, so a delay is placed between the services and the broker;
 6. prints p50/p99 per hop and the sustained rate at each offered rate, each as a ratio to the
    broker baseline, and writes them with an SVG plot to docs/performance-pipeline.svg and
    the table to stdout (docs/performance.md quotes a run);
 7. prints what a need costs (docs/operations.md quotes a run): each service's and each server's
    CPU ms per need, apart from the bench's own and the SMTP sink's (every seeded volunteer wants
    instant email, so every proposal is emailed to the project's sink), and the pods each service
    would need at 100 and 1,000 needs/s. With `--observability both` each rate is offered twice,
    first with every service's metrics and traces off, then on (the services restarted between):
    what watching the platform costs, in the same run.

    ./dev bench pipeline [--matches 100000] [--rates 5,10,20,40] [--seconds 20] [--replicas matching=2]
                         [--profile] [--observability on|off|both]
"""
import argparse
import contextlib
import os
import random
import signal
import sys
import tempfile
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import kombu
from nameko.events import get_event_exchange
from nameko.testing.rabbit import Client as RabbitClient
from tqdm import tqdm

from services.common.store import due, elastic, mongo
from services.common.trust.sealing import Sealer
from services.notify.tests.sink import SmtpSink
from services.common.bus.events import utcnow
from services.common.taxonomy import SKILLS
from services.common.ops import store_users
from bench.profile import Profiler
from tests.e2e.platform import Client, Platform

COUNTRIES = ["IR", "SY", "RU", "CN", "SA", "CU", "BY", "VE", "EG", "TR"]
LANGUAGES = ["fa", "ar", "ru", "zh", "en", "es", "tr", "fr"]
URGENCY = ["low", "normal", "high", "critical"]
BATCH = 2000


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# ---------------------------------------------------------------- seeding

def seed(config, volunteers, requests_, matches):
    """Documents shaped as the services write them, straight into their databases."""
    # Each database seeded as its service's own store user, which must own what it later adds to.
    clients = {service: mongo.connect(dict(config, **store_users.service_credentials(service)))
               for service in ("matching", "requests", "notify")}
    prefix = config["DB_PREFIX"]
    matching, requests_db, notify = (clients[service][f"{prefix}_{service}"] for service in ("matching", "requests", "notify"))
    now = utcnow()
    skills = sorted(SKILLS)
    volunteer_ids = [uuid.uuid4().hex for _ in range(volunteers)]
    request_ids = [uuid.uuid4().hex for _ in range(requests_)]
    authors = [uuid.uuid4().hex for _ in range(max(1, requests_ // 4))]
    bar = tqdm(total=2 * volunteers + 2 * requests_ + 3 * matches, desc="seeding", unit="doc", file=sys.stderr)

    def insert(collection, documents):
        for start in range(0, len(documents), BATCH):
            chunk = documents[start:start + BATCH]
            collection.insert_many(chunk, ordered=False)
            bar.update(len(chunk))

    insert(matching.volunteers, [{
        "_id": vid, "handle": f"seed-{vid[:8]}", "role": "volunteer", "status": "active",
        # The candidates of the run's requests: with 3 of the skills and 3 of the languages each,
        # about one in forty fits a given request (250 of 10,000).
        "skills": random.sample(skills, 3), "languages": random.sample(LANGUAGES, 3),
        "countries": random.sample(COUNTRIES, 2), "availability_hours": 5, "max_active_matches": 10,
        "verified": random.random() < 0.3, "version": 1,
        "deleted": False, "touched_at": now, "touched_slot": due.slot(now), "open_proposals": 0,
        "active_matches": 0, "stats": {"accepted": 0, "declined": 0, "expired": 0, "answer_seconds": 0}}
        for vid in volunteer_ids])
    seeded_requests = [{
        "_id": rid, "author_id": random.choice(authors), "title": "Seeded need", "body": "Seeded for the benchmark.",
        "skills": random.sample(skills, 2), "languages": random.sample(LANGUAGES, 1),
        "country": random.choice(COUNTRIES), "urgency": random.choice(URGENCY), "visibility": "public",
        "status": random.choice(["fulfilled", "closed", "withdrawn"]), "hidden": False, "helper_ids": [],
        "version": 2, "created_at": now - timedelta(days=random.randint(1, 700)), "updated_at": now}
        for rid in request_ids]
    insert(requests_db.requests, seeded_requests)
    insert(matching.requests, [{k: r[k] for k in ("_id", "author_id", "skills", "languages", "country", "urgency",
                                                   "visibility", "status", "hidden", "created_at", "version")}
                               for r in seeded_requests])
    match_docs = []
    for _ in range(matches):
        request = random.choice(seeded_requests)
        volunteer_id = random.choice(volunteer_ids)
        proposed_at = request["created_at"] + timedelta(hours=1)
        match_docs.append({
            "_id": uuid.uuid4().hex, "request_id": request["_id"], "volunteer_id": volunteer_id,
            "author_id": request["author_id"], "status": random.choice(["declined", "expired", "accepted", "withdrawn"]),
            "score": round(random.random(), 3), "reasons": ["skill"], "proposed_at": proposed_at,
            "expires_at": proposed_at + timedelta(hours=72),
            "expires_slot": due.slot(proposed_at + timedelta(hours=72)), "version": 2, "active": False})
    insert(matching.matches, match_docs)
    insert(notify.notifications, [{
        "_id": uuid.uuid4().hex, "recipient_id": m["volunteer_id"], "kind": "match_proposed", "text": "",
        "match_id": m["_id"], "request_id": m["request_id"], "created_at": m["proposed_at"],
        "stored_at": m["proposed_at"], "read": True} for m in match_docs])
    # Every volunteer wants each proposal emailed at once: a need's cost includes its emails.
    sealer = Sealer(config["NOTIFY_PUBLIC_KEY"])
    insert(notify.contacts, [{  # notify's People store (services/notify/storage.py)
        "_id": vid, "version": 1, "announced": True, "contact_sealed": sealer.seal(f"seed-{vid[:8]}@bench.example"),
        "email": "instant", "email_default": False, "email_updated_at": now} for vid in volunteer_ids])
    insert(notify.proposals, [{
        "_id": m["_id"], "volunteer_id": m["volunteer_id"], "author_id": m["author_id"],
        "request_id": m["request_id"], "proposed_at": m["proposed_at"], "remind_at": m["proposed_at"],
        "remind_slot": due.slot(m["proposed_at"]), "status": "closed"} for m in match_docs])
    bar.close()
    for client in clients.values():
        client.close()


# ---------------------------------------------------------------- CPU per request

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


SERVERS = ("ferretdb", "postgresql", "rabbitmq", "elasticsearch")


def process_groups(platform):
    """Name -> process group id: each service (started in a session of its own), the SMTP sink
    (`platform.sink`, if any) and each server of the local stack (scripts/stack.sh starts each with
    setsid and records its pid)."""
    groups = {name: process.pid for name, process in platform.processes.items()}
    sink = getattr(platform, "sink", None)
    if sink is not None and sink.process is not None:
        groups["smtp sink"] = sink.process.pid
    run = os.path.join(os.environ.get("ALLIES_HOME", ".local"), "run")
    for server in SERVERS:
        try:
            with open(os.path.join(run, f"{server}.pid")) as handle:
                groups[server] = int(handle.read().strip())
        except (OSError, ValueError):
            pass
    return groups


def _per_group(groups, value):
    """Sum of `value(stat fields)` over the live processes of each group."""
    used = dict.fromkeys(groups, 0.0)
    name_of = {pgid: name for name, pgid in groups.items()}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        # fields[2]: the process group; fields[1]: the parent (PostgreSQL's backends leave the
        # postmaster's group with setsid, but stay its children).
        name = name_of.get(int(fields[2])) or name_of.get(int(fields[1]))
        if name is not None:
            used[name] += value(fields)
    return used


def cpu_seconds(groups):
    """CPU seconds (user + system) used so far by the live processes of each group."""
    return _per_group(groups, lambda fields: (int(fields[11]) + int(fields[12])) / TICKS)


def memory_mb(groups):
    """Resident memory (MB) of the live processes of each group now."""
    return _per_group(groups, lambda fields: int(fields[21]) * PAGE / 1e6)


# ---------------------------------------------------------------- broker baseline

def broker_round_trip(amqp_uri, count=2000):
    """Messages per second: persistent, published with confirms, then consumed with acks."""
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    with kombu.Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        queue = kombu.Queue(queue_name, durable=True, auto_delete=False)
        producer = connection.Producer()
        body = {"event_id": str(uuid.uuid4()), "data": "x" * 600}  # about an event's size
        received = []
        started = time.perf_counter()
        for _ in range(count):
            producer.publish(body, routing_key=queue_name, declare=[queue], delivery_mode=2)
        with connection.Consumer(queue, callbacks=[lambda b, m: (received.append(1), m.ack())], prefetch_count=100):
            while len(received) < count:
                connection.drain_events(timeout=10)
        elapsed = time.perf_counter() - started
        queue(connection.default_channel).delete()
    return count / elapsed


# ---------------------------------------------------------------- the run

class Run:
    def __init__(self, author, es=None, alias=None):
        self.author, self.es, self.alias = author, es, alias
        self.posted = {}  # request id -> (sent, answered) wall-clock seconds
        self.searchable = {}  # request id -> when Elasticsearch first had it (polled every 100 ms)
        self.lock = threading.Lock()
        self.skills = sorted(SKILLS)
        self.watching = False

    def watch(self):
        """Poll Elasticsearch (a realtime multi-get) for the posted requests it does not have yet,
        while requests are being posted: a hop is timed as it happens, not after the run."""
        while self.watching:
            with self.lock:
                unseen = [rid for rid in self.posted if rid not in self.searchable]
            if unseen:
                for doc in self.es.mget(index=self.alias, ids=unseen[:1000], source=False)["docs"]:
                    if doc.get("found"):
                        self.searchable[doc["_id"]] = time.time()
            time.sleep(0.1)

    def __enter__(self):
        self.watching = True
        self.watcher = threading.Thread(target=self.watch, daemon=True)
        self.watcher.start()
        return self

    def __exit__(self, *exc):
        self.watching = False
        self.watcher.join()

    def post(self, index):
        body = {"title": f"Help needed with a campaign {index}", "body": "A family asks for help with a campaign.",
                "skills": [random.choice(self.skills)], "languages": [random.choice(LANGUAGES)],
                "country": random.choice(COUNTRIES), "urgency": random.choice(URGENCY), "visibility": "public"}
        sent = time.time()
        response = self.author.call("POST", "/api/requests", body)
        answered = time.time()
        if response.status_code == 201:
            with self.lock:
                self.posted[response.json()["id"]] = (sent, answered)

    def offer(self, rate, seconds):
        """Post at `rate`/s for `seconds`, on a fixed schedule (an open loop: late answers do not slow it)."""
        total = int(rate * seconds)
        start = time.time()
        with ThreadPoolExecutor(max_workers=64) as pool:
            for index in range(total):
                delay = start + index / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.post, f"{rate}-{index}")


class EventTap:
    """Every `request_created` and `matches_proposed` of the run as the bus carried them: for each
    request, the envelope's `occurred_at` (the moment the service stored the change and wrote the
    event into its outbox) and the moment the broker delivered the event here. A queue of the
    bench's own, bound like a consumer's: what it receives, matching and search receive too."""

    TAPPED = (("requests", "request_created"), ("matching", "matches_proposed"), ("matching", "match_proposed"))

    def __init__(self, config):
        self.config = config
        self.created = {}  # request id -> (occurred_at, delivered) in seconds
        self.proposed = {}  # request id -> (occurred_at, delivered) of its first proposal
        self.listening = False

    def __enter__(self):
        self.connection = kombu.Connection(self.config["AMQP_URI"])
        queue = kombu.Queue(f"bench-tap-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                           bindings=[kombu.binding(get_event_exchange(source, self.config), routing_key=event_type)
                                     for source, event_type in self.TAPPED])
        self.consumer = self.connection.Consumer([queue], callbacks=[self.record], accept=["json"])
        self.consumer.consume()
        self.listening = True
        self.listener = threading.Thread(target=self.listen, daemon=True)
        self.listener.start()
        return self

    def listen(self):
        while self.listening:
            try:
                self.connection.drain_events(timeout=0.5)
            except socket.timeout:
                pass

    def record(self, body, message):
        delivered = time.time()
        message.ack()
        occurred = datetime.fromisoformat(body["occurred_at"]).timestamp()
        request_id = body["data"]["request_id"]
        if body["event_type"] == "request_created":
            self.created.setdefault(request_id, (occurred, delivered))
        elif request_id not in self.proposed or occurred < self.proposed[request_id][0]:
            self.proposed[request_id] = (occurred, delivered)

    def __exit__(self, *exc):
        self.listening = False
        self.listener.join()
        self.connection.close()

    def hops(self, ids, sent):
        """Per hop, from the envelopes: the seconds each request spent in each, for every request
        whose events were seen."""
        created = {r: self.created[r] for r in ids if r in self.created}
        proposed = {r: self.proposed[r] for r in created if r in self.proposed}
        return {
            "gateway + requests: stored": [created[r][0] - sent[r] for r in created],
            "requests outbox -> broker -> tap": [created[r][1] - created[r][0] for r in created],
            "matching: received -> proposed": [proposed[r][0] - created[r][1] for r in proposed],
            "matching outbox -> broker -> tap": [proposed[r][1] - proposed[r][0] for r in proposed],
        }


def hop_times(platform, run, ids, deadline):
    """When each request reached each hop, read from the services' own records (through the
    indexes the services declare: matches by request, notifications by recipient)."""
    prefix = platform.config["DB_PREFIX"]
    client = mongo.connect(platform.config)
    matching, notify = client[f"{prefix}_matching"], client[f"{prefix}_notify"]
    stored, proposed, notified = {}, {}, {}
    while not set(ids) <= set(run.searchable) and time.time() < deadline:
        time.sleep(0.2)  # the watcher is still polling
    searchable = {rid: run.searchable[rid] for rid in ids if rid in run.searchable}
    waiting = set(ids)
    while waiting and time.time() < deadline:  # the stored times, once the flow has settled
        for request_id in list(waiting):
            matches = list(matching.matches.find({"request_id": request_id}, {"proposed_at": 1, "volunteer_id": 1}))
            if not matches:
                continue
            proposed[request_id] = min(m["proposed_at"] for m in matches).timestamp()
            inbox = [n["stored_at"] for m in matches for n in notify.notifications.find(
                {"recipient_id": m["volunteer_id"], "match_id": m["_id"]}, {"stored_at": 1})]
            if inbox:
                notified[request_id] = min(inbox).timestamp()
                waiting.discard(request_id)
        if waiting:
            time.sleep(1)
    requests_db = client[f"{prefix}_requests"]
    for request_id in ids:
        document = requests_db.requests.find_one({"_id": request_id}, {"created_at": 1})
        if document:
            stored[request_id] = document["created_at"].timestamp()
    client.close()
    return stored, proposed, notified, searchable


def report_rate(rate, run, ids, times, window, cpu, tap):
    stored, proposed, notified, searchable = times
    sent = {rid: run.posted[rid][0] for rid in ids}
    envelope_hops = tap.hops(ids, sent)
    hops = {
        "POST answered (gateway)": [run.posted[rid][1] - sent[rid] for rid in ids],
        "stored (requests)": [stored[r] - sent[r] for r in ids if r in stored],
        "first proposal (matching)": [proposed[r] - sent[r] for r in ids if r in proposed],
        "in the inbox (notify)": [notified[r] - sent[r] for r in ids if r in notified],
        "searchable (search)": [searchable[r] - sent[r] for r in ids if r in searchable],
    }
    done = [notified[r] for r in ids if r in notified]
    sustained = len(done) / max(max(done) - min(sent.values()), window) if done else 0.0
    return {"rate": rate, "posted": len(ids), "notified": len(done), "sustained": sustained,
            "cpu_ms": {name: 1000 * seconds / max(len(ids), 1) for name, seconds in cpu.items()},
            "hops": {name: (percentile(v, 0.5), percentile(v, 0.99), len(v)) for name, v in hops.items()},
            "envelope_hops": {name: (percentile(v, 0.5), percentile(v, 0.99), len(v))
                              for name, v in envelope_hops.items() if v}}


def svg_plot(results, baseline, path):
    """p99 from POST to the inbox, and the sustained rate, against the offered rate."""
    width, height, pad = 640, 320, 50
    rates = [r["rate"] for r in results]
    p99 = [r["hops"]["in the inbox (notify)"][1] * 1000 for r in results]
    top = max([v for v in p99 if v == v] + [1])
    right = max(rates) * 1.1

    def x(rate):
        return pad + (width - 2 * pad) * rate / right

    def y(value):
        return height - pad - (height - 2 * pad) * value / top

    points = " ".join(f"{x(r):.1f},{y(v):.1f}" for r, v in zip(rates, p99) if v == v)
    labels = "".join(f'<text x="{x(r):.1f}" y="{height - pad + 16}" font-size="11" text-anchor="middle">{r:g}/s</text>'
                     for r in rates)
    dots = "".join(f'<circle cx="{x(r):.1f}" cy="{y(v):.1f}" r="3"/>' for r, v in zip(rates, p99) if v == v)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
           f'<text x="{pad}" y="20" font-size="13">p99 from POST to the inbox (ms, max {top:.0f}) against offered '
           f'rate; broker baseline {baseline:.0f} msg/s</text>'
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
           f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{points}"/>{dots}{labels}</svg>')
    with open(path, "w") as handle:
        handle.write(svg)


def main(argv):
    parser = argparse.ArgumentParser(prog="./dev bench pipeline")
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rates", default="5,10,20,40")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--replicas", default="",
                        help="more processes of a service, as more pods would be: matching=2,notify=2")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy on every service while the last rate is offered (bench/profile.py); "
                             "sampling six processes takes CPU, so that rate's figures are not comparable")
    parser.add_argument("--plot", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                       "performance-pipeline.svg"))
    parser.add_argument("--observability", choices=("on", "off", "both"), default="on",
                        help="every service's metrics and traces (on: as deployed); both: each rate "
                             "offered with them off, then on, in the same run")
    parser.add_argument("--logs", help="keep the services' logs (and the emails) in this folder")
    args = parser.parse_args(argv)

    # Killed (timeout, Ctrl-C, kill): unwind, so `finally` stops the platform's processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    amqp_uri = os.environ["AMQP_URI"]
    management = os.environ["RABBIT_MGMT_URI"]  # RabbitClient adds the api/ path itself
    with (contextlib.nullcontext(args.logs) if args.logs else tempfile.TemporaryDirectory()) as logs:
        os.makedirs(logs, exist_ok=True)
        # Every proposal is emailed, to the project's SMTP sink (a process of its own, measured apart).
        sink = SmtpSink(os.path.join(logs, "mail")).start()
        platform = Platform(RabbitClient(management), amqp_uri, logs, MATCH_TOP_K=5, SMTP_PORT=sink.port)
        platform.sink = sink
        print(f"seeding {args.volunteers} volunteers, {args.requests} requests, {args.matches} matches",
              file=sys.stderr)
        seed(platform.config, args.volunteers, args.requests, args.matches)
        phases = {"on": ["on"], "off": ["off"], "both": ["off", "on"]}[args.observability]
        try:
            platform.start()
            observe(platform, phases[0])
            for name, count in (item.split("=") for item in args.replicas.split(",") if item):
                for replica in range(1, int(count)):
                    platform.start_service(name, replica=replica)
            if args.replicas:
                print(f"replicas: {args.replicas}", file=sys.stderr)
            # On an idle platform (start-up indexes the seeded store), best of three: the broker's pace.
            time.sleep(10)
            baseline = max(broker_round_trip(platform.amqp_uri) for _ in range(3))
            print(f"broker round trip (persistent, confirms, acks): {baseline:.0f} msg/s", file=sys.stderr)
            author = Client(platform).sign_up(f"bench-author-{uuid.uuid4().hex[:6]}", "activist")
            es = elastic.connect(platform.config)
            run = Run(author, es, f"{platform.config['ES_INDEX_PREFIX']}-requests")
            results = []
            rates = [float(r) for r in args.rates.split(",")]
            for rate, phase in ((rate, phase) for rate in rates for phase in phases):
                observe(platform, phase)
                before = set(run.posted)
                groups = process_groups(platform)
                cpu_before, bench_before, mail_before = cpu_seconds(groups), own_cpu_seconds(), sink_messages(sink)
                profiler = None
                if args.profile and rate == rates[-1]:
                    profiler = Profiler({name: process.pid for name, process in platform.processes.items()},
                                        os.path.join(os.environ.get("ALLIES_HOME", ".local"), "profiles"),
                                        args.seconds)
                    profiler.start()
                with run, EventTap(platform.config) as tap:
                    run.offer(rate, args.seconds)
                    ids = set(run.posted) - before
                    times = hop_times(platform, run, ids, time.time() + 120)
                cpu_after = cpu_seconds(groups)
                cpu = {name: cpu_after[name] - cpu_before[name] for name in groups}
                cpu["bench"] = own_cpu_seconds() - bench_before
                results.append(report_rate(rate, run, ids, times, args.seconds, cpu, tap))
                results[-1].update(observability=phase, emails=(sink_messages(sink) - mail_before) / max(len(ids), 1))
                print_result(results[-1], baseline)
                print_cost(results[-1])
                if profiler is not None:
                    print("  where each service's time went (py-spy, share of its samples):")
                    profiler.stop()
            if len(phases) == 2:
                print_observability_cost(results)
            svg_plot([r for r in results if r["observability"] == phases[-1]], baseline, args.plot)
            print(f"plot: {os.path.abspath(args.plot)}", file=sys.stderr)
        finally:
            try:
                platform.stop()
            finally:
                sink.stop()
    return 0


# ---------------------------------------------------------------- what a need costs

# A pod's CPU (deploy/k8s: each service's limit is one core) and the share of it a cluster would
# plan to use, leaving room for bursts and a pod lost.
POD_CORES, TARGET_UTILISATION = 1.0, 0.6


def observe(platform, phase):
    """Every service with its metrics and traces on or off, as `phase` says (restarted if it
    changes): off serves no /metrics port and makes no span."""
    if getattr(platform, "observability", "on") == phase:
        return
    for name in list(platform.processes):
        service, _, replica = name.partition("#")
        platform.stop_service(name)
        extra = {} if phase == "on" else {"METRICS_PORT": "0", "TRACE_DIR": ""}
        platform.start_service(service, replica=int(replica or 0), **extra)
    wait_until_healthy(platform)
    time.sleep(5)  # start-up work settles before anything is measured
    platform.observability = phase
    print(f"metrics and traces: {phase}", file=sys.stderr)


def wait_until_healthy(platform, timeout=90):
    deadline = time.monotonic() + timeout
    while not platform.healthy():
        if time.monotonic() > deadline:
            raise RuntimeError("the platform did not come back after restarting its services")
        time.sleep(0.5)


def own_cpu_seconds():
    """This process's CPU (the bench: posting, polling, the tap)."""
    times = os.times()
    return times.user + times.system


def sink_messages(sink):
    folder = sink.folder
    return len([name for name in os.listdir(folder) if name.endswith(".eml")]) if os.path.isdir(folder) else 0


def pods_for(cpu_ms_per_need, needs_per_second):
    """Pods of one core, used to TARGET_UTILISATION, for a rate of needs (at least one)."""
    cores = cpu_ms_per_need * needs_per_second / 1000
    return max(1, int(-(-cores // (POD_CORES * TARGET_UTILISATION))))


def print_cost(result):
    cpu = result["cpu_ms"]
    services = {name: ms for name, ms in cpu.items() if name not in SERVERS + ("smtp sink", "bench")}
    servers = {name: cpu.get(name, 0.0) for name in SERVERS}
    print(f"  what a need costs (metrics and traces {result['observability']}; {result['emails']:.1f} emails a need): "
          f"services {sum(services.values()):.0f} CPU ms, servers {sum(servers.values()):.0f}, "
          f"apart: SMTP sink {cpu.get('smtp sink', 0.0):.0f}, bench {cpu.get('bench', 0.0):.0f}")
    print(f"  {'':14} {'CPU ms/need':>11} {'pods @100/s':>12} {'@1,000/s':>9}")
    for name, ms in sorted(services.items(), key=lambda item: -item[1]):
        print(f"  {name:14} {ms:11.1f} {pods_for(ms, 100):12d} {pods_for(ms, 1000):9d}")
    for name, ms in servers.items():
        print(f"  {name:14} {ms:11.1f} {'cores @100/s':>12} {ms * 100 / 1000:.1f}, @1,000/s {ms:.0f}")
    sys.stdout.flush()


def print_observability_cost(results):
    """Each rate's CPU per need with metrics and traces on, against off, in this run."""
    print("\nwhat watching costs (CPU ms per need of the services, on / off, same run):")
    by = {(r["rate"], r["observability"]): r for r in results}
    for rate in sorted({r["rate"] for r in results}):
        off, on = by[(rate, "off")], by[(rate, "on")]
        names = [n for n in off["cpu_ms"] if n not in SERVERS + ("smtp sink", "bench")]
        total_off = sum(off["cpu_ms"][n] for n in names)
        total_on = sum(on["cpu_ms"].get(n, 0.0) for n in names)
        print(f"  {rate:g}/s: {total_on:.1f} / {total_off:.1f} = {total_on / max(total_off, 1e-9):.3f}  ("
              + ", ".join(f"{n} {on['cpu_ms'].get(n, 0.0) / max(off['cpu_ms'][n], 1e-9):.2f}" for n in names) + ")")


def print_result(result, baseline):
    print(f"\noffered {result['rate']:g}/s: posted {result['posted']}, notified {result['notified']}, "
          f"sustained {result['sustained']:.1f}/s = 1/{baseline / max(result['sustained'], 1e-9):.0f} of the broker")
    print(f"  {'hop (time since POST sent)':32} {'p50 ms':>8} {'p99 ms':>8} {'n':>5}")
    for name, (p50, p99, n) in result["hops"].items():
        print(f"  {name:32} {p50 * 1000:8.0f} {p99 * 1000:8.0f} {n:5d}")
    print(f"  {'each hop, from the envelopes':32} {'p50 ms':>8} {'p99 ms':>8} {'n':>5}")
    for name, (p50, p99, n) in result["envelope_hops"].items():
        print(f"  {name:32} {p50 * 1000:8.0f} {p99 * 1000:8.0f} {n:5d}")
    cpu = sorted(((name, ms) for name, ms in result["cpu_ms"].items() if name not in ("smtp sink", "bench")),
                 key=lambda item: -item[1])
    print(f"  CPU ms per request: {sum(v for _, v in cpu):.0f} in all (the platform: services and servers); "
          + ", ".join(f"{name} {value:.0f}" for name, value in cpu))
    sys.stdout.flush()
