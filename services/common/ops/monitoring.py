"""The local Prometheus's scrape configuration (scripts/stack.sh writes it at each start).

Made from the catalog of services, so that a new service is scraped with no edit here. Every
service is one target of the job `allies`, labelled with its name (the alert rules and
`./dev status` group by `service`); the stores and the broker are one job each. Standard library
only: the stack runs it before the project's virtualenv exists.

    python3 -m services.common.ops.monitoring local-config RULES_FILE   (ports from the environment)
"""
import json
import os
import sys

from services.common import catalog

# Seconds. Locally a short interval, so that `./dev status` and the graphs move while one watches;
# deploy/k8s scrapes every 30 s.
LOCAL_INTERVAL = "5s"
HOST = "127.0.0.1"

RABBITMQ_QUEUE_FAMILIES = ["queue_coarse_metrics", "queue_consumer_count"]


def _port(name, default):
    return int(os.environ.get(name) or default)


def local_config(rules_file, service_ports=None, interval=LOCAL_INTERVAL):
    """The configuration as a dict (Prometheus reads YAML, and JSON is YAML)."""
    ports = service_ports or catalog.METRICS_PORTS
    rabbit = f"{HOST}:{_port('ALLIES_RABBIT_PROM_PORT', 15693)}"
    jobs = [
        {"job_name": "allies",
         "static_configs": [{"targets": [f"{HOST}:{ports[name]}"], "labels": {"service": name}}
                            for name in catalog.ALL]},
        # The broker's totals (connections, channels, messages in and out, alarms)...
        {"job_name": "rabbitmq", "static_configs": [{"targets": [rabbit]}]},
        # ...and each queue's depth and consumers, which the totals do not give: the queues are named
        # for services and event types, never for a person.
        {"job_name": "rabbitmq-queues", "metrics_path": "/metrics/detailed",
         "params": {"family": RABBITMQ_QUEUE_FAMILIES},
         "static_configs": [{"targets": [rabbit]}]},
        {"job_name": "ferretdb", "metrics_path": "/debug/metrics",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_FERRETDB_DEBUG_PORT', 18088)}"]}]},
        {"job_name": "postgresql",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_PG_EXPORTER_PORT', 19187)}"]}]},
        {"job_name": "elasticsearch",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_ES_EXPORTER_PORT', 19114)}"]}]},
        {"job_name": "prometheus",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_PROMETHEUS_PORT', 19090)}"]}]},
    ]
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"deployment": "local"}},
        "rule_files": [rules_file],
        "scrape_configs": jobs,
    }


def main(argv):
    if len(argv) != 2 or argv[0] != "local-config":
        sys.exit("usage: python3 -m services.common.ops.monitoring local-config RULES_FILE")
    json.dump(local_config(os.path.abspath(argv[1])), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
