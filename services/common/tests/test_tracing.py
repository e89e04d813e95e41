"""The trace context's rules, in milliseconds: an event made inside a span carries its traceparent and
one made outside carries none; a malformed traceparent on the bus is refused by the envelope and
never continued; the span log and `./dev trace`'s tree."""
import json

import pytest
from marshmallow import ValidationError
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from services.common import tracecontext
from services.common.bus.events import make_event, parse_event
from services.common.ops import trace
from services.common.tracing import SpanLog

DATA = {"profile_id": "p1", "version": 1}


def test_an_event_made_inside_a_span_carries_its_context_and_one_made_outside_none():
    assert "traceparent" not in make_event("profiles", "profile_deleted", DATA)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("an act") as span:
        event = make_event("profiles", "profile_deleted", DATA)
        assert tracecontext.trace_id() == format(span.get_span_context().trace_id, "032x")
    made = span.get_span_context()
    assert event["traceparent"] == f"00-{made.trace_id:032x}-{made.span_id:016x}-01"
    assert tracecontext.context_of(event["traceparent"]) is not None
    assert parse_event("profiles", "profile_deleted", event).event_id == event["event_id"]


@pytest.mark.parametrize("bad", ["garbage", "00-" + "0" * 32 + "-" + "1" * 16 + "-01",
                                 "00-" + "a" * 32 + "-" + "b" * 16 + "-01; rm -rf", "00-ABC"])
def test_a_malformed_traceparent_is_refused_on_the_bus_and_never_continued(bad):
    event = dict(make_event("profiles", "profile_deleted", DATA), traceparent=bad)
    with pytest.raises(ValidationError) as refused:
        parse_event("profiles", "profile_deleted", event)
    assert "traceparent" in refused.value.messages
    assert tracecontext.context_of(bad) is None


def test_the_span_log_holds_one_line_per_span_and_the_tree_puts_each_under_its_parent(tmp_path):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SpanLog(str(tmp_path), "sample")))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /api/requests", attributes={"allies.service": "gateway"}) as root:
        with tracer.start_as_current_span("requests.create_request", attributes={"allies.service": "requests"}):
            pass
    with tracer.start_as_current_span("another act"):
        pass
    lines = [json.loads(line) for path in tmp_path.iterdir() for line in path.read_text().splitlines()]
    assert len(lines) == 3
    trace_id = format(root.get_span_context().trace_id, "032x")
    spans = trace.spans_of(str(tmp_path), trace_id)
    assert [span["name"] for span in spans] == ["POST /api/requests", "requests.create_request"]
    shown = trace.render(spans).splitlines()
    assert shown[0].startswith(f"trace {trace_id}: 2 spans, 2 services")
    assert shown[1].split()[4:] == ["gateway", "POST", "/api/requests"]
    assert shown[2].split()[4:] == ["requests", "requests.create_request"]  # indented under it
    assert shown[2].index("requests") > shown[1].index("gateway")
    assert trace.render([]) == "no span of this trace in the span logs"
