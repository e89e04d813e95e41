"""`./dev up` as a developer runs it: supervisord restarts a service that dies, and on SIGTERM every
service stops gracefully (exit status 0, before the SIGKILL bound), leaving no process behind.

It runs the real `./dev up` on its own vhost, database and index prefixes, port and run folder,
so a developer's own `./dev up` is untouched; every process is stopped by its id."""
import os
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests

from services.common.config import ROOT
from tests.e2e.platform import SERVICES, Platform, free_port
from tests.support import run_command, start_process, wait_until

STOP_BOUND_S = 20  # supervisord's stopwaitsecs (STOP_GRACE_S): past it a service would be killed


@pytest.fixture
def dev_up(rabbit_manager, request, tmp_path):
    """A `./dev up` of its own; yields (process, run folder, url)."""
    platform = Platform(rabbit_manager, request.config.getoption("RABBIT_AMQP_URI"), str(tmp_path))
    rabbit_manager.create_vhost(platform.vhost)
    user = platform.amqp_uri.split("//")[1].split(":")[0]
    rabbit_manager.set_vhost_permissions(platform.vhost, user, ".*", ".*", ".*")
    run = tmp_path / "run"
    port = free_port()
    env = dict(platform.env(), ALLIES_RUN=str(run), MAIL_DIR=str(tmp_path / "mail"), GATEWAY_ADDRESS=f"127.0.0.1:{port}",
               SMTP_PORT=str(free_port()), STOP_GRACE_S=str(STOP_BOUND_S))
    process = start_process(["./dev", "up"], cwd=ROOT, env=env, stdout=open(tmp_path / "up.log", "wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), timeout=120, interval=0.5, message="./dev up to be healthy")
        yield process, run, url, env
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _service_pids(run).values():  # nothing outlives the test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        platform.stop()


def _scraped_up():
    answer = requests.get(f"{os.environ.get('PROMETHEUS_URL', 'http://127.0.0.1:19090')}/api/v1/query",
                          params={"query": 'up{job="allies"} == 1'}, timeout=10)
    return {series["metric"]["service"] for series in answer.json()["data"]["result"]}


def _healthy(url):
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _status(run, env=None):
    out = run_command([os.path.join(ROOT, ".local", "venv", "bin", "supervisorctl"), "-c",
                          str(run / "supervisord.conf"), "status"], capture_output=True, text=True, timeout=30,
                         env=env).stdout
    return {name: (state, int(pid) if pid else None)
            for name, state, pid in re.findall(r"^(?:platform:)?(\w+)\s+(\w+)\s+(?:pid (\d+))?", out, re.M)}


def _service_pids(run):
    try:
        return {name: pid for name, (state, pid) in _status(run).items() if pid}
    except Exception:
        return {}


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.timeout(300)
def test_a_crashed_service_is_restarted_and_sigterm_stops_every_service_gracefully(dev_up):
    process, run, url, env = dev_up
    before = _status(run)
    assert {name for name, (state, _) in before.items() if state == "RUNNING"} >= set(SERVICES)
    # The stack's Prometheus sees every service of `./dev up` at its catalog port (docs/operations.md).
    wait_until(lambda: _scraped_up() == set(SERVICES), timeout=60, interval=1,
               message="Prometheus to scrape every service of ./dev up")
    # `./dev status` shows each of them with its instance, and the stores up.
    frame = run_command(["./dev", "status", "--once"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert frame.returncode == 0, frame.stderr
    rows = {line.split()[0]: line.split() for line in frame.stdout.splitlines() if line.strip()}
    assert all(rows[name][1] == "1" for name in SERVICES), frame.stdout
    assert all(rows[store][1] == "up" for store in ("RabbitMQ", "FerretDB", "PostgreSQL", "Elasticsearch")), frame.stdout

    # A service that dies is restarted; the others carry on (honcho stopped them all).
    os.kill(before["matching"][1], signal.SIGKILL)
    wait_until(lambda: (lambda now: now["matching"][0] == "RUNNING" and now["matching"][1] != before["matching"][1])(
        _status(run)), timeout=60, interval=0.5, message="matching restarted")
    assert all(_status(run)[name][1] == before[name][1] for name in SERVICES if name != "matching")
    handle = f"after{uuid.uuid4().hex[:6]}"
    assert requests.post(f"{url}/api/accounts", json={"handle": handle, "password": "correct horse battery",
                                                      "role": "volunteer"}, timeout=20).status_code == 201

    # SIGTERM (what Ctrl-C or a container stop sends): each service finishes and exits by itself.
    pids = _service_pids(run)
    started = time.monotonic()
    os.kill(process.pid, signal.SIGTERM)  # `./dev up` execs supervisord: this is its pid
    wait_until(lambda: process.poll() is not None, timeout=STOP_BOUND_S + 15, interval=0.2,
               message="supervisord to stop")
    elapsed = time.monotonic() - started
    assert not [name for name, pid in pids.items() if _alive(pid)]
    log = (run / "supervisord.log").read_text()
    stopped = dict(re.findall(r"stopped: (\w+) \((.*?)\)", log.split("received SIGTERM")[-1]))
    assert {stopped.get(name) for name in SERVICES} == {"exit status 0"}, stopped  # none killed
    assert elapsed < STOP_BOUND_S, elapsed
