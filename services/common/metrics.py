"""What each service process shows the ops teams (DESIGN, "Operations: what the ops teams see"):
Prometheus metrics on its own port (`METRICS_PORT`; 0 serves none), from a nameko dependency
every service has (`Observed`, services/common/observed.py).

- `allies_handled_total{service, kind, entrypoint, outcome}` and `allies_handler_seconds{...}`: every
  event handler, RPC, HTTP route and timer tick, ok or error, and how long it took (buckets around
  the goals of docs/performance.md: a need's hops take milliseconds, a page well under a second).
- `allies_events_handled_total{service, source, event_type, outcome}`: events by type.
- `allies_http_requests_total{route, method, status}` at the gateway: the route's template
  (`/api/requests/<string:request_id>`), never a path with an id in it.
- `allies_store_commands_total{service, entrypoint, command}`: the store commands each entrypoint
  sends (services/common/store/commandcount.py: what `./dev bench counts` counts);
  `allies_store_command_seconds{service, command}` how long the store took to answer them, and
  `allies_store_command_failures_total{service, command}` those it failed.
- The background work's backlog, as it last saw it (services/common/store/backlog.py):
  `allies_outbox_pending{service, collection}` documents whose events wait to be published,
  `allies_due_behind_seconds{service, timer}` how far a due-work timer's checkpoint is behind the
  clock (and `allies_due_handed_total` the items it handed over), `allies_queue_taken{service, queue}`
  and `allies_queue_page{...}` what a queue's last tick took against what it may take.

No label holds an id, a handle, an address or a word anyone wrote: entrypoints, event types and
route templates are the code's own names (the canary test scrapes every service to check it).
"""
import threading
import time
import weakref

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from services.common.store import backlog, commandcount

# Seconds. Handlers of the pipeline take a few milliseconds (docs/performance.md); pages and
# searches up to a few hundred; a slow SMTP server or webhook receiver, seconds.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REGISTRY = CollectorRegistry()
HANDLED = Counter("allies_handled", "Entrypoint runs, by outcome.", ("service", "kind", "entrypoint", "outcome"),
                  registry=REGISTRY)
SECONDS = Histogram("allies_handler_seconds", "How long each entrypoint run took.", ("service", "kind", "entrypoint"),
                    buckets=BUCKETS, registry=REGISTRY)
EVENTS = Counter("allies_events_handled", "Events handled, by type and outcome.",
                 ("service", "source", "event_type", "outcome"), registry=REGISTRY)
HTTP = Counter("allies_http_requests", "HTTP requests at the gateway, by route template and status.",
               ("route", "method", "status"), registry=REGISTRY)


class StoreCommands:
    """The process's store command counts and latency (commandcount.COUNTER) and its background
    work's backlog (store/backlog.py), read at each scrape."""

    def __init__(self, service):
        self.service = service

    def collect(self):
        service = self.service
        family = CounterMetricFamily("allies_store_commands", "Store commands sent, by entrypoint.",
                                     labels=("service", "entrypoint", "command"))
        for (_, where, command), count in sorted(commandcount.COUNTER.snapshot().items()):
            family.add_metric((service, where, command), count)
        yield family
        latency = HistogramMetricFamily("allies_store_command_seconds", "How long the store took to answer.",
                                        labels=("service", "command"))
        failures = CounterMetricFamily("allies_store_command_failures", "Store commands that failed.",
                                       labels=("service", "command"))
        for command, (buckets, _, total, failed) in sorted(commandcount.COUNTER.latency.snapshot().items()):
            latency.add_metric((service, command), [(_le(bound), n) for bound, n in buckets], total)
            failures.add_metric((service, command), failed)
        yield latency
        yield failures
        outboxes, timers, queues = backlog.snapshot()
        pending = GaugeMetricFamily("allies_outbox_pending", "Documents whose events wait to be published, "
                                    "at the relay's last look (at most its page).", labels=("service", "collection"))
        for collection, n in sorted(outboxes.items()):
            pending.add_metric((service, collection), n)
        yield pending
        behind = GaugeMetricFamily("allies_due_behind_seconds", "How far a due-work timer's checkpoint is behind "
                                   "the clock.", labels=("service", "timer"))
        handed = CounterMetricFamily("allies_due_handed", "Due items a timer handed over.", labels=("service", "timer"))
        for timer, (seconds, n) in sorted(timers.items()):
            behind.add_metric((service, timer), seconds)
            handed.add_metric((service, timer), n)
        yield behind
        yield handed
        taken = GaugeMetricFamily("allies_queue_taken", "Items a queue's last tick took.", labels=("service", "queue"))
        page = GaugeMetricFamily("allies_queue_page", "Items a queue's tick may take.", labels=("service", "queue"))
        for queue, (n, limit) in sorted(queues.items()):
            taken.add_metric((service, queue), n)
            page.add_metric((service, queue), limit)
        yield taken
        yield page


def _le(bound):
    return "+Inf" if bound == float("inf") else repr(bound)


_SERVED = {}
_LOCK = threading.Lock()


def serve(service, port, host="0.0.0.0"):
    """The /metrics endpoint of this process, once (a process runs one service)."""
    with _LOCK:
        if port in _SERVED:
            return
        REGISTRY.register(StoreCommands(service))
        start_http_server(port, addr=host, registry=REGISTRY)
        _SERVED[port] = service


def kind_of(entrypoint):
    if isinstance(entrypoint, EventHandler):
        return "event"
    if isinstance(entrypoint, HttpRequestHandler):
        return "http"
    if isinstance(entrypoint, Rpc):
        return "rpc"
    if isinstance(entrypoint, Timer):
        return "timer"
    return "other"


def failed_unexpectedly(entrypoint, exc_info):
    """An error the code did not expect: an RPC's declared refusals (a 404, a 409) are not."""
    expected = getattr(entrypoint, "expected_exceptions", ()) or ()
    return exc_info is not None and not (expected and issubclass(exc_info[0], expected))


def status_of(result):
    """The HTTP status a gateway handler answered with (a Response, or (status, body))."""
    if hasattr(result, "status_code"):
        return str(result.status_code)
    if isinstance(result, tuple) and result and isinstance(result[0], int):
        return str(result[0])
    return "200"


class Metrics(DependencyProvider):
    def setup(self):
        self.started = weakref.WeakKeyDictionary()
        port = int(self.container.config.get("METRICS_PORT") or 0)
        if port:
            serve(self.container.service_name, port, self.container.config.get("METRICS_HOST") or "0.0.0.0")

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        began = self.started.pop(worker_ctx, None)
        entrypoint, service = worker_ctx.entrypoint, self.container.service_name
        kind, name = kind_of(entrypoint), entrypoint.method_name
        outcome = "error" if failed_unexpectedly(entrypoint, exc_info) else "ok"
        HANDLED.labels(service, kind, name, outcome).inc()
        if began is not None:
            SECONDS.labels(service, kind, name).observe(time.perf_counter() - began)
        if kind == "event":
            EVENTS.labels(service, entrypoint.source_service, entrypoint.event_type, outcome).inc()
        elif kind == "http":
            status = "500" if exc_info is not None else status_of(result)
            HTTP.labels(entrypoint.url, entrypoint.method, status).inc()

    def get_dependency(self, worker_ctx):
        return None
