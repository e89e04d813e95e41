"""One trace per act (services/common/tracing.py, docs/operations.md), on the whole platform: a need
posted through the gateway is one trace from the route through requests to matching, search and
notify, each span the child of the one that caused it (RPC headers and event envelopes carry the
W3C trace context), found from the request's id as `./dev trace` finds it; a log line written
while an act is handled names its trace."""
import re

from services.common.ops import trace
from tests.e2e.api import matches, unique
from tests.support import wait_until

EXPECTED = {"POST /api/requests", "requests.create_request", "matching.on_request_created",
            "search.on_request_created", "notify.on_request_created", "notify.on_matches_proposed",
            "search.on_matches_proposed"}


def test_a_need_is_one_trace_from_the_gateway_through_every_service_it_reaches(platform, person):
    helper = person(unique("tracer"), "volunteer")
    assert helper.call("PUT", "/api/me/profile", {"skills": ["translation"], "languages": ["uz"],
                                                   "countries": ["UZ"]}).status_code == 200
    author = person(unique("traced"), "activist")
    posted = author.call("POST", "/api/requests", {"title": "Translate a court ruling", "body": "Uzbek to English.",
                                                   "skills": ["translation"], "languages": ["uz"], "country": "UZ"})
    assert posted.status_code == 201, posted.text
    request_id = posted.json()["id"]
    wait_until(lambda: matches(helper, request_id), message="the helper to be proposed")

    trace_id = trace.trace_of_request(platform.config, request_id)
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id or ""), trace_id

    def whole():
        found = trace.spans_of(platform.trace_dir, trace_id)
        return found if EXPECTED <= {span["name"] for span in found} else None
    spans = wait_until(whole, message=f"every span of the need's trace, {sorted(EXPECTED)}")
    by_name = {span["name"]: span for span in spans}
    by_id = {span["span_id"]: span for span in spans}

    # One root, the gateway's route; every other span's parent is in the trace: nothing broke off.
    roots = [span for span in spans if span["parent_id"] is None]
    assert [root["name"] for root in roots] == ["POST /api/requests"]
    assert all(span["parent_id"] in by_id for span in spans if span is not roots[0])

    def parent(name):
        return by_id[by_name[name]["parent_id"]]["name"]
    assert parent("requests.create_request") == "POST /api/requests"  # over RPC
    for consumer in ("matching.on_request_created", "search.on_request_created", "notify.on_request_created"):
        assert parent(consumer) == "requests.create_request"  # the envelope of request_created
    assert parent("notify.on_matches_proposed") == "matching.on_request_created"  # one hop further
    assert {span["attributes"]["allies.service"] for span in spans} >= {
        "gateway", "requests", "matching", "search", "notify"}
    assert all(span["status"] != "ERROR" for span in spans)

    shown = trace.render(spans)
    assert shown.startswith(f"trace {trace_id}: ") and "matching.on_request_created" in shown


def test_a_log_line_written_while_an_act_is_handled_names_its_trace(platform, person):
    author = person(unique("logged"), "activist")
    # A refusal the requests service logs (one line, services/common/trust/logfilter.py).
    refused = author.call("POST", "/api/requests", {"title": "", "body": "x", "skills": ["legal"],
                                                    "languages": ["fa"], "country": "IR"})
    assert refused.status_code == 400
    named = set(re.findall(r" trace=([0-9a-f]{32})$", platform.logs(), re.M))
    traced = {span["trace_id"] for span in trace.spans_of(platform.trace_dir)}
    assert named and named <= traced
