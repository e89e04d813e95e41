"""What the ops teams see of the stack (docs/operations.md), on the real local servers: Prometheus
(scripts/stack.sh) scrapes the broker, the stores and every service's catalog port, with the alert
rules loaded; every broker and store metric the rules name is served; the exporters' users read
statistics and are refused any document."""
import os
import re
import uuid

import pymongo
import pymongo.errors
import pytest
import requests
import yaml

from services.common import catalog
from services.common.ops import monitoring
from services.common.config import ROOT, load_config
from tests.support import wait_until

PROMETHEUS = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:19090")
RULES = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
STACK_JOBS = {"rabbitmq", "rabbitmq-queues", "ferretdb", "postgresql", "elasticsearch", "prometheus"}


def prometheus(path, **params):
    answer = requests.get(f"{PROMETHEUS}/api/v1/{path}", params=params, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def targets():
    return prometheus("targets")["activeTargets"]


def rules():
    return [rule for group in yaml.safe_load(open(RULES))["groups"] for rule in group["rules"]]


def test_prometheus_scrapes_the_broker_the_stores_and_every_service_with_the_alert_rules_loaded():
    def stack_up():
        health = {t["labels"]["job"]: t["health"] for t in targets() if t["labels"]["job"] in STACK_JOBS}
        return set(health) == STACK_JOBS and set(health.values()) == {"up"} and health
    wait_until(stack_up, timeout=60, interval=1, message="every server of the stack up in Prometheus")

    services = {t["labels"]["service"]: t["scrapeUrl"] for t in targets() if t["labels"]["job"] == "allies"}
    assert services == {name: f"http://127.0.0.1:{port}/metrics" for name, port in catalog.METRICS_PORTS.items()}

    # The rules as they are in this checkout (a Prometheus started earlier read them then).
    assert requests.post(f"{PROMETHEUS}/-/reload", timeout=30).status_code == 200
    loaded = {rule["name"] for group in prometheus("rules")["groups"] for rule in group["rules"]}
    assert loaded == {rule["alert"] for rule in rules()}


def test_every_broker_and_store_metric_the_alert_rules_and_the_dashboard_name_is_served(rabbit_manager):
    # A queue of its own, so that the per-queue family has a series even on a fresh broker.
    vhost = f"monitoring-{uuid.uuid4().hex[:8]}"
    rabbit_manager.create_vhost(vhost)
    try:
        rabbit_manager.create_queue(vhost, "evt-test--monitoring.seen", durable=True, auto_delete=False)
        # The alert rules' expressions, and the dashboard's (deploy/k8s/monitoring).
        exprs = [rule["expr"] for rule in rules()] + [
            target["expr"] for panel in monitoring.dashboard()["panels"] for target in panel.get("targets", [])]
        named = {name for expr in exprs
                 for name in re.findall(r"\b((?:rabbitmq|pg|elasticsearch|ferretdb)_[a-z_]+)\b", expr)}
        assert named, "the rules watch the broker and the stores"

        def served():
            missing = [name for name in sorted(named)
                       if not prometheus("query", query=f'count({{__name__="{name}"}})')["result"]]
            return not missing or None
        wait_until(served, timeout=60, interval=2, message=f"Prometheus to hold every one of {sorted(named)}")
    finally:
        rabbit_manager.delete_vhost(vhost)


def test_the_exporters_users_read_statistics_and_no_document():
    config = load_config()
    # Something for them to be refused: a document in a service's database, as the owner writes it.
    owner = pymongo.MongoClient(config["MONGO_URI"], username=config["MONGO_USERNAME"],
                                password=config["MONGO_PASSWORD"], serverSelectionTimeoutMS=3000)
    database = f"monitoring_{uuid.uuid4().hex[:8]}_profiles"
    owner[database].accounts.insert_one({"_id": "a", "handle": "canary-handle"})
    try:
        # PostgreSQL's monitor role, through FerretDB (which signs in as PostgreSQL roles).
        monitor = pymongo.MongoClient(config["MONGO_URI"], username="allies_monitor",
                                      password=os.environ["MONITOR_PASSWORD_PG"], serverSelectionTimeoutMS=3000)
        with pytest.raises(pymongo.errors.OperationFailure):
            monitor[database].accounts.find_one()
        with pytest.raises(pymongo.errors.OperationFailure):
            monitor[database].accounts.insert_one({"_id": "forged"})
        monitor.close()
        # The PostgreSQL exporter signs in as it, and reads the statistics.
        scraped = requests.get("http://127.0.0.1:19187/metrics", timeout=10).text
        assert re.search(r"^pg_up 1$", scraped, re.M) and "pg_stat_database_xact_commit" in scraped
        assert "canary-handle" not in scraped
    finally:
        owner.drop_database(database)
        owner.close()

    es, auth = config["ES_URL"], ("allies_monitor", os.environ["MONITOR_PASSWORD_ES"])
    assert requests.get(f"{es}/_cluster/health", auth=auth, timeout=10).status_code == 200
    assert requests.get(f"{es}/_stats/docs", auth=auth, timeout=10).status_code == 200
    assert requests.get(f"{es}/_search", auth=auth, timeout=10).status_code == 403
    assert requests.put(f"{es}/monitoring-forged", auth=auth, timeout=10).status_code == 403
