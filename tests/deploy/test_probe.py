"""services.common.ops.probe, the Kubernetes exec probe, run as Kubernetes runs it: a process."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-broker-password"


def run_probe(service, **env):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "services.common.ops.probe", service], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("service", ["profiles", "search"])
def test_probe_passes_when_the_stores_answer(service):
    # `./dev test` points AMQP_URI, MONGO_URI and ES_URL at the running local stack.
    result = run_probe(service)
    assert result.returncode == 0, result.stderr


def test_probe_fails_without_its_stores_and_names_no_secret():
    # Port 1 on loopback: nothing listens, so each check is refused at once.
    result = run_probe("search", AMQP_URI=f"amqp://guest:{SECRET}@127.0.0.1:1/",
                       MONGO_URI=f"mongodb://admin:{SECRET}@127.0.0.1:1/",
                       ES_URL=f"http://elastic:{SECRET}@127.0.0.1:1")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    for check in ("broker", "database", "index"):
        assert check in output
    # Probe output lands in pod events, readable by anyone who can describe the pod.
    assert SECRET not in output and "127.0.0.1" not in output


def test_probe_checks_the_index_only_for_search():
    # A dead Elasticsearch must not mark services that never use it unhealthy.
    result = run_probe("profiles", ES_URL="http://127.0.0.1:1")
    assert result.returncode == 0, result.stderr


def test_probe_rejects_an_unknown_service():
    assert run_probe("nonesuch").returncode == 2
