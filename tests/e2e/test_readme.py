"""The README's API walkthrough works, as written, against a fresh platform."""
import os
import re

from services.common.config import ROOT
from tests.support import run_command

SECTION = re.compile(r"^## The API, with curl$(.*?)^## ", re.S | re.M)
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def walkthrough():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        section = SECTION.search(handle.read()).group(1)
    return "set -euo pipefail\n" + "\n".join(BLOCK.findall(section))


def test_the_readme_curl_walkthrough_runs(platform):
    env = dict(platform.env(), API=platform.url)  # the platform's keys: `./dev admin` signs with them
    result = run_command(["bash", "-c", walkthrough()], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for marker in ('"confirmation_required"', '"validation_failed"', '"status": "accepted"', '"status": "confirmed"',
                   '"status": "fulfilled"', '"verified": true', '"code": "unauthorized"', "is now moderator"):
        assert marker in out, f"{marker} not in the walkthrough's output:\n{out[-3000:]}"
    assert '"code": "internal"' not in out
