"""What Prometheus scrapes, locally and in a cluster, made from the catalog of services so that a
new service is scraped, graphed and alerted on with no edit here.

Every service is one target of the job `allies`, labelled with its name (the alert rules,
`./dev status` and the dashboard group by `service`); the broker and the stores are one job each.

    python3 -m services.common.ops.monitoring local-config RULES_FILE   the local Prometheus's
        configuration (scripts/stack.sh, at each start; ports from the environment). Standard
        library only: the stack runs it before the project's virtualenv exists.
    python -m services.common.ops.monitoring k8s        deploy/k8s/monitoring/monitoring.yaml
    python -m services.common.ops.monitoring dashboard  deploy/k8s/monitoring/dashboard.json
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


def _port(name):
    """A port scripts/stack.sh chose (it passes every one): its defaults are the only ones."""
    return int(os.environ[name])


def local_config(rules_file, service_ports=None, interval=LOCAL_INTERVAL):
    """The configuration as a dict (Prometheus reads YAML, and JSON is YAML)."""
    ports = service_ports or catalog.METRICS_PORTS
    rabbit = f"{HOST}:{_port('ALLIES_RABBIT_PROM_PORT')}"
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
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_FERRETDB_DEBUG_PORT')}"]}]},
        {"job_name": "postgresql",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_PG_EXPORTER_PORT')}"]}]},
        {"job_name": "elasticsearch",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_ES_EXPORTER_PORT')}"]}]},
        {"job_name": "prometheus",
         "static_configs": [{"targets": [f"{HOST}:{_port('ALLIES_PROMETHEUS_PORT')}"]}]},
    ]
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"deployment": "local"}},
        "rule_files": [rules_file],
        "scrape_configs": jobs,
    }


# ---------------------------------------------------------------- Kubernetes (Prometheus Operator)

NAMESPACE = "allies"
# Every pod serves its metrics on this port (deploy/k8s/configmap.yaml's METRICS_PORT).
K8S_METRICS_PORT = 9100
K8S_INTERVAL = "30s"
# The gateway's pages and API, and its mail relay (deploy/k8s/gateway.yaml): open to anyone.
GATEWAY_HTTP_PORT, GATEWAY_SMTP_PORT = 8080, 2525
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                     "deploy", "prometheus", "alerts.yml")
LABELS = {"app.kubernetes.io/part-of": "allies"}


def _job(name):
    """A relabeling that names the job as the rules expect it (the operator's default is the pod's)."""
    return {"targetLabel": "job", "replacement": name}


def k8s_documents(rules_text):
    """The PodMonitors, the NetworkPolicy that lets Prometheus reach the broker's metrics and the
    PrometheusRule (deploy/prometheus/alerts.yml, as it is)."""
    import yaml  # the project's virtualenv: only `local-config` runs without it

    def meta(name):
        return {"name": name, "namespace": NAMESPACE, "labels": dict(LABELS)}

    services = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": meta("allies-services"),
        "spec": {
            "selector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In",
                                               "values": list(catalog.ALL)}]},
            "podMetricsEndpoints": [{
                "port": "metrics", "interval": K8S_INTERVAL,
                "relabelings": [_job("allies"),
                                {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                                 "targetLabel": "service"}],
            }],
        },
    }
    broker = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": meta("rabbitmq"),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "rabbitmq"}},
            # Each node serves the queues it leads: the sums over nodes are the cluster's.
            "podMetricsEndpoints": [
                {"port": "prometheus", "path": "/metrics", "interval": K8S_INTERVAL, "relabelings": [_job("rabbitmq")]},
                {"port": "prometheus", "path": "/metrics/detailed", "interval": K8S_INTERVAL,
                 "params": {"family": RABBITMQ_QUEUE_FAMILIES}, "relabelings": [_job("rabbitmq-queues")]},
            ],
        },
    }
    # rabbitmq_prometheus does not sign anyone in: only the monitoring namespace's Prometheus may reach it.
    reach = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("broker-metrics-from-prometheus"),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "rabbitmq"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                         "ports": [{"protocol": "TCP", "port": 15692}]}],
        },
    }
    # The services' own metrics ports likewise: a backend service takes no connection at all (it
    # reaches the broker and its store; its probes run in its container), so its pods admit the
    # monitoring namespace's Prometheus on the metrics port and nothing else; the gateway's also
    # admit anyone on its web and mail ports.
    prometheus_only = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                       "ports": [{"protocol": "TCP", "port": K8S_METRICS_PORT}]}
    backends = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("services-metrics-from-prometheus"),
        "spec": {
            "podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In",
                                                  "values": list(catalog.BACKEND)}]},
            "policyTypes": ["Ingress"],
            "ingress": [prometheus_only],
        },
    }
    gateway = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("gateway-metrics-from-prometheus"),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": catalog.GATEWAY}},
            "policyTypes": ["Ingress"],
            "ingress": [prometheus_only, {"ports": [{"protocol": "TCP", "port": GATEWAY_HTTP_PORT},
                                                    {"protocol": "TCP", "port": GATEWAY_SMTP_PORT}]}],
        },
    }
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": meta("allies"),
            "spec": {"groups": yaml.safe_load(rules_text)["groups"]}}
    return [services, broker, reach, backends, gateway, rule]


def k8s_manifest():
    import yaml
    header = ("# Generated: python -m services.common.ops.monitoring k8s > deploy/k8s/monitoring/monitoring.yaml\n"
              "# (services/common/ops/monitoring.py; the rules are deploy/prometheus/alerts.yml, as they are).\n")
    return header + yaml.safe_dump_all(k8s_documents(open(RULES).read()), sort_keys=False, width=120)


# ---------------------------------------------------------------- the Grafana dashboard

# A consumer queue is named evt-<source>-<event type>--<service>.<handler> (services/common/bus/topology.py).
QUEUED_BY_SERVICE = ('sum by (service) (label_replace(rabbitmq_detailed_queue_messages_ready, "service", "$1", '
                     '"queue", "evt-.*--([a-z]+)[.].*"))')


def queued_for(service):
    """PromQL: the events ready in one service's consumer queues."""
    return f'sum(rabbitmq_detailed_queue_messages_ready{{queue=~"evt-.*--{service}[.].*"}})'

def _panel(title, exprs, unit, x, y, w=6, h=7):
    return {"type": "timeseries", "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(ord("A") + place), "expr": expr, "legendFormat": legend}
                        for place, (legend, expr) in enumerate(exprs)]}


def _row(title, y):
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []}


def service_panels(name, y):
    s = f'service="{name}"'
    return [
        _panel("runs per second", [("{{kind}}", f'sum by (kind) (rate(allies_handled_total{{{s}, kind!="timer"}}[5m]))')],
               "ops", 0, y),
        _panel("p99", [("{{kind}}", f'histogram_quantile(0.99, sum by (kind, le) '
                                    f'(rate(allies_handler_seconds_bucket{{{s}, kind!="timer"}}[5m])))')], "s", 6, y),
        _panel("errors", [("share failed", f'sum(rate(allies_handled_total{{{s}, outcome="error"}}[5m]))'
                                           f' / sum(rate(allies_handled_total{{{s}}}[5m]))')], "percentunit", 12, y),
        _panel("backlog", [
            ("events queued", queued_for(name)),
            ("outbox", f"sum(allies_outbox_pending{{{s}}})"),
            ("timers behind (s)", f"max(allies_due_behind_seconds{{{s}}})"),
        ], "short", 18, y),
    ]


def dashboard():
    panels, y = [], 0
    for name in catalog.ALL:
        panels.append(_row(name, y))
        panels += service_panels(name, y + 1)
        y += 8
    panels.append(_row("broker and stores", y))
    y += 1
    panels += [
        _panel("RabbitMQ", [("ready", "sum(rabbitmq_detailed_queue_messages_ready)"),
                            ("dead letters", 'sum(rabbitmq_detailed_queue_messages{queue="dead-letters"})'),
                            ("nodes up", 'sum(up{job="rabbitmq"})')], "short", 0, y),
        _panel("document store, as the services see it", [
            ("p99", "histogram_quantile(0.99, sum by (le) (rate(allies_store_command_seconds_bucket[5m])))"),
            ("failing share", "sum(rate(allies_store_command_failures_total[5m])) / sum(rate(allies_store_command_seconds_count[5m]))"),
        ], "s", 6, y),
        _panel("store commands per second", [("{{service}}", "sum by (service) (rate(allies_store_commands_total[5m]))")],
               "ops", 12, y),
        _panel("Elasticsearch", [("up", "min(elasticsearch_cluster_health_up)"),
                                 ("searches/s", "sum(rate(elasticsearch_indices_search_query_total[5m]))")],
               "short", 18, y),
    ]
    return {
        "title": "allies: services, broker and stores", "uid": "allies-overview", "schemaVersion": 39,
        "tags": ["allies"], "timezone": "utc", "refresh": "30s", "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": panels,
    }


def main(argv):
    if argv[:1] == ["local-config"] and len(argv) == 2:
        json.dump(local_config(os.path.abspath(argv[1])), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif argv == ["k8s"]:
        sys.stdout.write(k8s_manifest())
    elif argv == ["dashboard"]:
        json.dump(dashboard(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.exit("usage: python -m services.common.ops.monitoring local-config RULES_FILE | k8s | dashboard")


if __name__ == "__main__":
    main(sys.argv[1:])
