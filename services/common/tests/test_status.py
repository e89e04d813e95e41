"""`./dev status`'s frame (services/common/ops/status.py) from what Prometheus answers: one row per
service of the catalog, a service with no instance called out, a store that is down said so."""
from services.common import catalog
from services.common.ops import status


class Answers:
    """Prometheus's instant-query answers, by query (what the real one returns: labels and a value)."""

    def __init__(self, by_query):
        self.by_query = by_query

    def query(self, promql):
        return self.by_query.get(promql, [])

    def scalar(self, promql):
        found = self.query(promql)
        return found[0][1] if found else None


def test_a_frame_shows_every_service_and_store_and_calls_out_what_is_down():
    answers = Answers({
        status.SERVICE_QUERIES["up"]: [({"service": name}, 0.0 if name == "matching" else 2.0) for name in catalog.ALL],
        status.SERVICE_QUERIES["rate"]: [({"service": "requests"}, 12.34)],
        status.SERVICE_QUERIES["p99"]: [({"service": "requests"}, 0.0123), ({"service": "notify"}, float("nan"))],
        status.SERVICE_QUERIES["errors"]: [({"service": "requests"}, 0.05)],
        status.SERVICE_QUERIES["queued"]: [({"service": "matching"}, 340.0)],
        status.SERVICE_QUERIES["behind"]: [({"service": "profiles"}, 900.0)],
        status.STORE_QUERIES[0][1]: [({}, 1.0)],
        status.STORE_QUERIES[2][1]: [({}, 0.0)],
    })
    frame = status.render(status.gather(answers), "http://prometheus", now=0).splitlines()
    rows = {line.split()[0]: line for line in frame if line and line.split()[0] in catalog.ALL}
    assert set(rows) == set(catalog.ALL)
    assert rows["requests"].split()[1:7] == ["2", "12.3", "12", "ms", "5.0%", "0"]
    assert rows["matching"].split()[1] == "0" and rows["matching"].endswith("<< NO INSTANCE")
    assert "340" in rows["matching"] and "15 min" in rows["profiles"]
    assert "NO INSTANCE" not in rows["notify"] and " - " in rows["notify"]  # no runs: no p99, not NaN
    stores = {line.split()[0]: line for line in frame if line.split()[:1] in (["RabbitMQ"], ["FerretDB"], ["PostgreSQL"])}
    assert stores["RabbitMQ"].split()[1] == "up" and stores["FerretDB"].split()[1] == "DOWN"
    assert stores["PostgreSQL"].split()[1] == "?"  # no answer is not "up"


def test_without_prometheus_one_frame_says_how_to_start_it(capsys):
    assert status.main(["--once", "--prometheus", "http://127.0.0.1:9"]) == 1
    assert "./dev stack start" in capsys.readouterr().err
