"""The W3C trace context (`traceparent`) of the act being handled, as the event envelope and nameko's
RPC headers carry it from service to service (services/common/tracing.py makes the spans).

Only the four fields of the standard cross a boundary (version, trace id, parent span id, flags):
nothing a person wrote, no id of ours. With tracing off there is no current span, and nothing is
carried.
"""
import re

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
# version 00: 32 hex of trace id, 16 of parent span id, 2 of flags; an all-zero id is invalid.
TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


def current():
    """The traceparent of the span being handled now, or None (no span, tracing off)."""
    carrier = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent):
    """The context a span continues from `traceparent`, or None (none, or not a valid one: a new
    trace starts)."""
    if not isinstance(traceparent, str) or not TRACEPARENT.match(traceparent):
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


def trace_id():
    """The current trace's id (32 hex), or None."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
