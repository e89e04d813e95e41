"""One trace per act (DESIGN, "Operations: what the ops teams see"): a span for every handler, RPC
and route a person's act sets going, across the services, joined by the W3C trace context that
event envelopes and RPC headers carry (services/common/tracecontext.py).

A nameko dependency every service has, beside `metrics`, from `services/common/observed.py`:
- an event handler continues the trace of the envelope's `traceparent` (written when the event
  was made, so an event the outbox relay publishes later still joins it);
- an RPC continues its caller's, which nameko carries in the message's headers (the worker's
  context data, where each span puts its own `traceparent` for the calls it makes);
- a route of the gateway starts a trace: a `traceparent` sent from the internet is not trusted;
- a timer's tick starts none: a trace is what a person's act set going.

Spans are named by the code (`requests.create_request`, `notify.on_match_proposed`) and carry the
service, the kind, the event type or route template and the outcome: no id, no handle, no word
anyone wrote (the privacy canary reads every span of a journey).

Off unless configured (no span is made): `TRACE_DIR` writes each process's spans as JSON lines to
`<TRACE_DIR>/<service>-<pid>.jsonl` (`./dev up` does; `./dev trace` reads them), and the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` exports over OTLP/HTTP to a collector (Jaeger, Tempo...).
"""
import json
import os
import threading
import weakref

from nameko.extensions import DependencyProvider
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.common import tracecontext
from services.common.metrics import failed_unexpectedly, kind_of

KINDS = {"event": SpanKind.CONSUMER, "rpc": SpanKind.SERVER, "http": SpanKind.SERVER}


class SpanLog(SpanExporter):
    """Finished spans as JSON lines in a file of this process's own (one writer: no lock between
    processes); what `./dev trace` reads."""

    def __init__(self, directory, service):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, f"{service}-{os.getpid()}.jsonl")
        self.lock = threading.Lock()
        self.file = open(self.path, "a", encoding="utf-8")

    def export(self, spans):
        lines = []
        for span in spans:
            context, parent = span.get_span_context(), span.parent
            lines.append(json.dumps({
                "trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x"),
                "parent_id": format(parent.span_id, "016x") if parent is not None else None,
                "name": span.name, "start_ns": span.start_time, "end_ns": span.end_time,
                "status": span.status.status_code.name, "attributes": dict(span.attributes or {}),
            }) + "\n")
        with self.lock:
            self.file.write("".join(lines))
            self.file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        with self.lock:
            self.file.close()


_TRACERS = {}
_LOCK = threading.Lock()


def tracer_for(service, config):
    """This process's tracer, made once; None when tracing is not configured."""
    directory = config.get("TRACE_DIR") or ""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not directory and not endpoint:
        return None
    with _LOCK:
        if "provider" not in _TRACERS:
            provider = TracerProvider(resource=Resource.create({"service.name": f"allies-{service}",
                                                                "service.namespace": "allies"}))
            if directory:
                provider.add_span_processor(SimpleSpanProcessor(SpanLog(directory, service)))
            if endpoint:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _TRACERS["provider"] = provider
        return _TRACERS["provider"].get_tracer("allies")


def parent_of(worker_ctx, kind):
    """The context the worker's span continues, or None for a new trace."""
    if kind == "event":
        payload = worker_ctx.args[0] if worker_ctx.args else None
        return tracecontext.context_of(payload.get("traceparent") if isinstance(payload, dict) else None)
    if kind == "rpc":
        return tracecontext.context_of(worker_ctx.data.get("traceparent"))
    return None


class Tracing(DependencyProvider):
    def setup(self):
        self.tracer = tracer_for(self.container.service_name, self.container.config)
        self.active = weakref.WeakKeyDictionary()

    def worker_setup(self, worker_ctx):
        if self.tracer is None:
            return
        entrypoint, service = worker_ctx.entrypoint, self.container.service_name
        kind = kind_of(entrypoint)
        if kind not in KINDS:
            return  # a timer's tick (or a test's direct call): no trace
        attributes = {"allies.service": service, "allies.kind": kind, "allies.entrypoint": entrypoint.method_name}
        if kind == "event":
            attributes.update({"allies.event_type": entrypoint.event_type, "allies.source": entrypoint.source_service})
            name = f"{service}.{entrypoint.method_name}"
        elif kind == "http":
            attributes.update({"http.route": entrypoint.url, "http.request.method": entrypoint.method})
            name = f"{entrypoint.method} {entrypoint.url}"
        else:
            name = f"{service}.{entrypoint.method_name}"
        span = self.tracer.start_span(name, context=parent_of(worker_ctx, kind), kind=KINDS[kind],
                                      attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span))
        self.active[worker_ctx] = (span, token)
        # nameko sends the worker's context data with every RPC it makes: this span is their parent.
        worker_ctx.data["traceparent"] = tracecontext.current()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        found = self.active.pop(worker_ctx, None)
        if found is None:
            return
        span, token = found
        failed = failed_unexpectedly(worker_ctx.entrypoint, exc_info)
        if failed:
            # The exception's type only: its message may hold what someone wrote.
            span.set_status(Status(StatusCode.ERROR, exc_info[0].__name__))
        span.set_attribute("allies.outcome", "error" if failed else "ok")
        span.end()
        otel_context.detach(token)

    def get_dependency(self, worker_ctx):
        return None
