"""Faults while requests flow: nothing lost, nothing doubled, nothing stuck.

Story (SCENARIOS.md): activists post legal needs one after another while the platform runs, and
volunteer lawyers are proposed and emailed. Meanwhile each service is killed (SIGKILL, as the
kernel's OOM killer or a node failure would) and started again, RabbitMQ restarts, the
MongoDB-wire server is down for 20 s and Elasticsearch for 60 s. After each fault, every need
whose post was accepted, and any other the store holds, is stored, indexed, proposed to exactly
one volunteer (MATCH_TOP_K=1) and notified once in the app and once by email; no queue keeps a
message and nothing was dead-lettered.

These tests stop and start the shared servers (scripts/stack.sh stop|start NAME), so the suite
runs after every other test but the query-plan check (conftest.py), and each test leaves every
server running.
"""
import collections
import os
import signal
import threading
import time
import uuid

import pytest
import requests as http

from services.common.config import ROOT
from services.notify.tests.sink import SmtpSink, free_port
from tests.faults.outcomes import Outcomes, post_need
from tests.support import native_subprocess, run_command, wait_until

SMTP_PORT = free_port()
# A short lease: an email whose sending was not recorded goes out again after it, so a test can
# wait one lease and see that nothing did.
PLATFORM_OVERRIDES = {"SMTP_PORT": SMTP_PORT, "MATCH_TOP_K": 1, "EMAIL_RETRY_BASE_S": 0.5, "LEASE_S": 20}
VOLUNTEERS = 20      # x 20 open proposals each: room for every need the suite posts
RATE_PER_S = 1.0
BEFORE_S = AFTER_S = 5  # the stream flows this long before the fault and after recovery
SETTLE_S = 240          # what a fault may delay is done within this
STACK = os.path.join(ROOT, "scripts", "stack.sh")

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    running = SmtpSink(tmp_path_factory.mktemp("mail"), port=SMTP_PORT).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def people(platform, sink):
    """An activist, and VOLUNTEERS lawyers with an email address and room for 20 proposals each."""
    from tests.e2e.platform import Client
    activist = Client(platform).sign_up(f"activist-{uuid.uuid4().hex[:6]}", "activist")
    volunteers = []
    for n in range(VOLUNTEERS):
        volunteer = Client(platform).sign_up(f"lawyer-{n}-{uuid.uuid4().hex[:6]}", "volunteer",
                                             email=f"lawyer{n}-{uuid.uuid4().hex[:6]}@example.org")
        response = volunteer.call("PUT", "/api/me/profile", {
            "skills": ["legal"], "languages": ["fa", "en"], "countries": ["IR"], "availability_hours": 10,
            "max_active_matches": 20})
        assert response.status_code == 200, response.text
        volunteers.append(volunteer)
    outcomes = Outcomes(platform, sink, top_k=PLATFORM_OVERRIDES["MATCH_TOP_K"])
    wait_until(lambda: outcomes.volunteers_known() == VOLUNTEERS, timeout=60, message="matching to know every lawyer")
    yield activist, outcomes
    outcomes.close()


class Stream:
    """Posts a need every 1/RATE_PER_S seconds, from a thread, as an activist's browser would:
    one try each, no retry. Keeps the ids of those accepted (201) and what the others got."""

    def __init__(self, activist):
        self.activist, self.accepted, self.refused = activist, [], collections.Counter()
        self.running = False

    def __enter__(self):
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join(timeout=60)

    def _run(self):
        while self.running:
            started = time.monotonic()
            try:
                response = post_need(self.activist)
                if response.status_code == 201:
                    self.accepted.append(response.json()["id"])
                else:
                    self.refused[response.status_code] += 1
            except http.RequestException as exc:
                self.refused[type(exc).__name__] += 1
            time.sleep(max(0.0, 1 / RATE_PER_S - (time.monotonic() - started)))


def stack(*args):
    run_command([STACK, *args], check=True, stdout=native_subprocess.DEVNULL, stderr=native_subprocess.PIPE,
                timeout=300)


def kill(platform, name):
    process = platform.processes.pop(name)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1)
    platform.start_service(name)


def outage(server, seconds):
    stack("stop", server)
    try:
        time.sleep(seconds)
    finally:
        stack("start", server)


# A server stopped for a while (0: restarted at once).
OUTAGES = {"restart-rabbitmq": ("rabbitmq", 0), "mongo-wire-down-20s": ("ferretdb", 20),
           "elasticsearch-down-60s": ("elasticsearch", 60)}
FAULTS = {
    **{f"kill-{name}": (lambda platform, name=name: kill(platform, name))
       for name in ("requests", "matching", "notify", "search", "profiles", "gateway")},
    **{fault: (lambda platform, server=server, seconds=seconds: outage(server, seconds))
       for fault, (server, seconds) in OUTAGES.items()},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_accepted_need_is_stored_indexed_proposed_and_notified_exactly_once(platform, people, fault):
    activist, outcomes = people
    with Stream(activist) as stream:
        time.sleep(BEFORE_S)
        FAULTS[fault](platform)
        wait_until(platform.healthy, timeout=120, interval=1, message="the platform to be healthy again")
        time.sleep(AFTER_S)
    print(f"{fault}: {len(stream.accepted)} accepted, refused {dict(stream.refused)}")
    assert stream.accepted, f"no need was accepted during {fault}: {dict(stream.refused)}"
    # Refused while a server is down: 503 "try again" (or no answer while the gateway restarts), never a 500.
    assert 500 not in stream.refused, dict(stream.refused)
    ACCEPTED.extend(stream.accepted)  # every test checks every need posted so far in the module
    counts = {}

    def settled():
        counts.update(outcomes.count(activist.account["id"], ACCEPTED))
        # Something done twice cannot be undone by waiting: fail at once.
        assert not any(counts["duplicated"].values()), f"after {fault}: {counts}"
        return outcomes.settled(counts)

    try:
        wait_until(settled, timeout=SETTLE_S, interval=2)
    except AssertionError as exc:
        raise AssertionError(f"after {fault}, not settled in {SETTLE_S} s: {counts}") from exc
    assert counts["dead_lettered"] == 0, counts
    if fault in OUTAGES:
        # What an outage interrupted may be done again only when a lease runs out: wait one, and
        # nothing must have been done twice meanwhile.
        time.sleep(PLATFORM_OVERRIDES["LEASE_S"] + 2)
        settled()
        assert outcomes.settled(counts), counts


ACCEPTED = []
