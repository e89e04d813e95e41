"""KEDA ScaledObjects for deploy/k8s/autoscaling: each service scaled on the length of its queues.

A consumer falls behind when its queues grow, not when its CPU does (a service waiting on its
database is idle and late), so each service that consumes from the broker is scaled on the
number of messages waiting in every queue it consumes: its event queues (the same list the
publishers declare: `topology.consumers_of`) and its RPC queue. KEDA asks RabbitMQ each queue's
length with a passive declare, as the `autoscaler` broker user, who may do nothing else
(services/common/ops/broker_users.py). The gateway, which has no queue, is scaled on CPU.

The manifest is generated from the services' entrypoints so that a new handler cannot be left
out; tests/deploy checks the committed file is what this prints and that KEDA's own schemas
accept it:

    .local/venv/bin/python -m services.common.ops.autoscaling > deploy/k8s/autoscaling/scaledobjects.yaml
"""
import sys

import yaml

from services.common.bus import topology
from services.common.ops.broker_users import RPC_SERVERS

NAMESPACE = "allies"
TRIGGER_AUTHENTICATION = "allies-broker-queue-lengths"
AUTOSCALER_SECRET = "allies-autoscaler-secrets"

# Measured on one 2-core machine (docs/performance.md): one process of a service handles about
# 8-10 events a second, so 50 waiting is some seconds of work; an RPC waits on a person.
EVENT_BACKLOG_PER_REPLICA = 50
RPC_BACKLOG_PER_REPLICA = 5
GATEWAY_CPU_PERCENT = 70
# Never to zero: the services' timers (outbox relay, expiry, email retries, reminders) and their
# RPCs need a process running. matching keeps its candidate index in memory in every replica
# (docs/matching.md), so its ceiling is lower.
REPLICAS = {"profiles": (1, 4), "requests": (1, 4), "matching": (1, 3), "notify": (1, 6), "search": (1, 4),
            "campaigns": (1, 4), "gateway": (2, 6)}


def queues_of(service):
    """Every queue `service` consumes: its event queues, then its RPC queue."""
    events = sorted(name for source in topology.SERVICES for name, _ in topology.consumers_of(source)
                    if name.split("--", 1)[1].split(".", 1)[0] == service)
    return events + ([f"rpc-{service}"] if service in RPC_SERVERS else [])


def _metadata(name, **labels):
    return {"name": name, "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "allies", **labels}}


def _queue_trigger(queue):
    per_replica = RPC_BACKLOG_PER_REPLICA if queue.startswith("rpc-") else EVENT_BACKLOG_PER_REPLICA
    return {"type": "rabbitmq", "metadata": {"protocol": "amqp", "mode": "QueueLength", "value": str(per_replica),
                         "queueName": queue},
            "authenticationRef": {"name": TRIGGER_AUTHENTICATION}}


def scaled_object(service):
    low, high = REPLICAS[service]
    if service == "gateway":
        triggers = [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(GATEWAY_CPU_PERCENT)}}]
    else:
        triggers = [_queue_trigger(queue) for queue in queues_of(service)]
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": _metadata(service, **{"app.kubernetes.io/name": service}),
        "spec": {
            "scaleTargetRef": {"name": service},
            "minReplicaCount": low, "maxReplicaCount": high, "pollingInterval": 15,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                # Up at once; down one pod a minute after five quiet minutes (a stopping pod
                # finishes its work and hands its unacknowledged messages back: docs/reliability.md).
                "scaleUp": {"stabilizationWindowSeconds": 0},
                "scaleDown": {"stabilizationWindowSeconds": 300,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}},
            "triggers": triggers,
        },
    }


def trigger_authentication():
    """Where KEDA finds the autoscaler's broker URI (amqps), and the CA to check the broker with."""
    refs = [("host", "AMQP_URI"), ("tls", "tls"), ("ca", "ca.crt")]
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
        "metadata": _metadata(TRIGGER_AUTHENTICATION),
        "spec": {"secretTargetRef": [{"parameter": parameter, "name": AUTOSCALER_SECRET, "key": key}
                                     for parameter, key in refs]},
    }


def network_policy():
    """KEDA's operator (namespace `keda`) may reach the broker's TLS port, and nothing else."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": _metadata("broker-from-keda"),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "rabbitmq"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}],
                         "ports": [{"protocol": "TCP", "port": 5671}]}],
        },
    }


HEADER = """# Generated by `python -m services.common.ops.autoscaling` (services/common/ops/autoscaling.py): do not
# edit; a new event handler appears here when this is run again (tests/deploy checks it was).
# Needs KEDA 2.16 in the cluster (namespace keda) and the Secret allies-autoscaler-secrets
# (deploy/k8s/secrets.yaml). Applied with the rest: kubectl apply -k deploy/k8s/autoscaling
"""


def manifest():
    documents = [trigger_authentication(), network_policy()] + [scaled_object(s) for s in REPLICAS]
    return HEADER + yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True, width=120)


if __name__ == "__main__":
    sys.stdout.write(manifest())
