"""`./dev demo` fills a fresh platform with needs and volunteers a newcomer can explore."""
import re
import sys

from services.common.config import ROOT
from services.demo import CAMPAIGNS, NEEDS
from tests.e2e.web import WebVisitor
from tests.support import run_command, wait_until


def test_demo_data_fills_a_fresh_platform_through_the_api(platform):
    result = run_command([sys.executable, "-m", "services.demo", "--gateway", platform.url, "--volunteers", "12"],
                            cwd=ROOT, env=platform.env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "demo data" in result.stderr  # the progress bar
    password = re.search(r"with password (\S+) as:", result.stdout).group(1)
    handles = dict(re.findall(r"^  (\w+)\s+(\S+)$", result.stdout, re.M))
    assert set(handles) == {"volunteer", "activist", "moderator", "analyst"}
    # Needs in several languages are found; a private one is not.
    visitor = WebVisitor(platform)
    public = sum(need[-1] == "public" for need in NEEDS)
    wait_until(lambda: f"{public} requests found" in visitor.get("/search").text, timeout=60,
               message="the public demo needs indexed")
    page = visitor.get("/search", params={"q": "ترجمه"}).text
    assert "مترجم برای نامه" in page and "دعم نفسي" not in visitor.get("/search").text
    # Each role can sign in with what the command printed.
    for role, handle in handles.items():
        WebVisitor(platform).sign_in(handle, password)
    assert "Security engineer" in visitor.get("/volunteers", params={"skill": "digital-security"}).text
    # Campaigns in several languages, listed, each with its supporters (counts published in batches).
    listed = visitor.get("/campaigns").text
    for title, *_ in CAMPAIGNS:
        assert title in listed, title
