"""A service's metrics, scraped from the port it serves them on: each entrypoint run counted by
outcome and timed, an expected refusal not counted as an error, and the store's commands."""
import requests
from nameko.containers import ServiceContainer
from nameko.testing.services import dummy, entrypoint_hook

from services.common.metrics import Metrics, status_of
from services.notify.tests.sink import free_port


class Sample:
    name = "sample"
    metrics = Metrics()

    @dummy
    def works(self):
        return 1

    @dummy
    def fails(self):
        raise ValueError("a bug")


def test_every_run_is_counted_and_timed_on_the_metrics_port():
    port = free_port()
    # No broker: the sample's entrypoints are called directly (nameko's entrypoint_hook).
    container = ServiceContainer(Sample, {"METRICS_PORT": port, "METRICS_HOST": "127.0.0.1"})
    container.start()
    try:
        with entrypoint_hook(container, "works") as works:
            works()
            works()
        with entrypoint_hook(container, "fails") as fails:
            try:
                fails()
            except ValueError:
                pass
        scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        container.stop()
    assert 'allies_handled_total{entrypoint="works",kind="other",outcome="ok",service="sample"} 2.0' in scraped
    assert 'allies_handled_total{entrypoint="fails",kind="other",outcome="error",service="sample"} 1.0' in scraped
    assert 'allies_handler_seconds_count{entrypoint="works",kind="other",service="sample"} 2.0' in scraped
    assert "# TYPE allies_store_commands_total counter" in scraped  # (no store here: none sent)


def test_a_gateway_answer_is_counted_by_its_status():
    class Answer:
        status_code = 404
    assert (status_of(Answer()), status_of((201, {})), status_of({"ok": True})) == ("404", "201", "200")


def test_the_store_latency_and_the_background_backlog_are_exported():
    from prometheus_client import CollectorRegistry, generate_latest
    from services.common.metrics import StoreCommands
    from services.common.store import backlog
    from services.common.store.commandcount import Latency

    latency = Latency()
    latency.observe("find", 0.0004, failed=False)
    latency.observe("find", 0.03, failed=True)
    buckets, count, total, failures = latency.snapshot()["find"]
    assert dict(buckets)[0.001] == 1 and dict(buckets)[0.05] == 2 and dict(buckets)[float("inf")] == 2
    assert (count, round(total, 4), failures) == (2, 0.0304, 1)

    backlog.outbox_seen("sample_things", 3)
    backlog.timer_walked("sample.expire", 125.0, 4)
    backlog.timer_walked("sample.expire", 30.0, 2)
    backlog.queue_taken("sample_emails", 50, 50)
    registry = CollectorRegistry()
    registry.register(StoreCommands("sample"))
    scraped = generate_latest(registry).decode()
    assert 'allies_outbox_pending{collection="sample_things",service="sample"} 3.0' in scraped
    assert 'allies_due_behind_seconds{service="sample",timer="sample.expire"} 30.0' in scraped
    assert 'allies_due_handed_total{service="sample",timer="sample.expire"} 6.0' in scraped
    assert 'allies_queue_taken{queue="sample_emails",service="sample"} 50.0' in scraped
    assert 'allies_queue_page{queue="sample_emails",service="sample"} 50.0' in scraped
    assert "# TYPE allies_store_command_seconds histogram" in scraped

