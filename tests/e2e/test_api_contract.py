"""Schemathesis over /api/openapi.json, against the whole platform: every operation, every check,
anonymous and with a valid token of each role. Zero server errors and zero contract failures: the
document says exactly what the API accepts and answers.

Schemathesis runs as its own CLI from its own venv (scripts/install-test-tools.sh), configured by
tests/e2e/schemathesis.toml. A run's report (JUnit XML) is kept under the test's tmp folder; the
failures, with a curl line to reproduce each, are in the assertion message.
"""
import os
import re
import uuid

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import ROOT
from tests.support import operator_command, run_command

ST = os.path.join(os.environ.get("ALLIES_HOME") or os.path.join(ROOT, ".local"), "schemathesis", "bin", "st")
CONFIG = os.path.join(os.path.dirname(__file__), "schemathesis.toml")
PASSWORD = "correct horse battery staple"
# A valid token must stay valid for the whole run: signing out and deleting the account end it.
# Both are fuzzed in the anonymous run (where they can only answer 401) and by their own e2e tests.
ENDS_THE_SESSION = ("delete_session", "delete_me")


def token_of(platform, role):
    handle = f"st{role[:3]}{uuid.uuid4().hex[:6]}"
    signed_up = requests.post(f"{platform.url}/api/accounts", timeout=20, json={
        "handle": handle, "password": PASSWORD, "role": role if role in ("activist", "volunteer") else "volunteer"})
    assert signed_up.status_code == 201, signed_up.text
    if role not in ("activist", "volunteer"):
        with ClusterRpcProxy(platform.config, timeout=20) as rpc:
            rpc.profiles.grant_role(operator_command({"handle": handle, "role": role}, platform.config))
    return requests.post(f"{platform.url}/api/sessions", json={"handle": handle, "password": PASSWORD},
                         timeout=20).json()["token"]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", [None, "activist", "volunteer", "moderator", "analyst"])
def test_the_api_keeps_to_its_document(platform, role, tmp_path):
    command = [ST, "--config-file", CONFIG, "run", f"{platform.url}/api/openapi.json", "--checks", "all",
               # One worker: with two, hypothesis parses its lambdas' sources in two threads at once,
               # which CPython 3.11's ast does not survive ("AST constructor recursion depth
               # mismatch", python/cpython#106905) once several operations take query parameters.
               "--max-examples", "8", "--seed", "20261122", "--workers", "1", "--request-timeout", "30",
               "--report", "junit", "--report-dir", str(tmp_path)]
    if role:
        command += ["-H", f"Authorization: Bearer {token_of(platform, role)}"]
        for operation in ENDS_THE_SESSION:
            command += ["--exclude-operation-id", operation]
    result = run_command(command, capture_output=True, text=True, timeout=540, cwd=str(tmp_path))
    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    failures = result.stdout[result.stdout.find("FAILURES"):result.stdout.find("WARNINGS")]
    assert result.returncode == 0, f"{role or 'anonymous'}:\n{failures[-6000:]}\n{summary}"
    generated = int(re.search(r"(\d+) generated", summary).group(1))
    assert generated > 1000, summary  # it really ran every operation, not a handful
    if role:
        # With a token that stayed valid, most operations were reached past authentication (each
        # role is refused the others' operations: a moderator starts no campaign, an activist
        # moderates nothing; a token that stopped working would be refused nearly all of them).
        tested = int(re.search(r"Tested: (\d+)", summary).group(1))
        refused = re.search(r"Authentication failed: (\d+) operations", result.stdout)
        assert not refused or int(refused.group(1)) < tested // 2, summary
