"""The deployment artifacts, checked offline: Kubernetes manifests, compose.yaml, the Dockerfile.

Nothing here needs a cluster or a Docker engine. The Kubernetes schemas come from the
kubernetes-validate package; compose.yaml is checked by a real Compose implementation
(`docker compose` or Debian's `docker-compose`, installed by scripts/install-deploy-tools.sh).
"""
import base64
import json
import fnmatch
import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet
from pymongo import uri_parser

from services.common import catalog
from services.common.bus import topology
from services.common.ops import autoscaling, probe
from services.common.ops import store_users
from services.common.trust.sealing import Opener, Sealer
from services.common.ops.secrets import SECRET_KEYS, keys_of
from services.common.trust.keyring import OPERATOR_ONLY
from services.notify.messages import cipher_from_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
IMAGE = "allies/platform:latest"

# Every directory of services/ with a service.py is a service that must be deployed.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))
STORES = {"rabbitmq", "mongodb", "elasticsearch"}

# Least privilege: which Secret holds which keys, and which workload may use which Secret.
# Every key of services.common.ops.secrets.SECRET_KEYS is in exactly one of them.
# Each workload holds its own Secret, with exactly the keys `keys_of` gives it; a private key
# (one that opens or signs) is in one Secret only; the operator's signing key is in none.
WORKLOADS_WITH_SECRETS = catalog.ALL
# Each workload's own broker user and password travel in its AMQP_URI (services/common/ops/broker_users.py);
# the broker holds its TLS key, the CA and the users it loads (definitions.json).
BROKER_FILES = {"definitions.json", "tls.crt", "tls.key", "ca.crt", "erlang.cookie"}
# Read by KEDA's operator, not by a workload (deploy/k8s/autoscaling): the autoscaler's broker URI
# and how to check the broker's certificate.
AUTOSCALER_KEYS = {"AMQP_URI", "tls", "ca.crt"}
# Each service with a database holds its own store user's password (services/common/ops/store_users.py)
# under the name it reads; the stores' own Secrets hold their administrators', the users' they make,
# MongoDB's members' key and Elasticsearch's transport certificate.
CARRIED = {w: {name for name, owner in store_users.CARRIED_AS.values() if owner == w} for w in WORKLOADS_WITH_SECRETS}
STORE_SECRETS = {"mongodb-store": {"MONGO_ROOT_PASSWORD", "MONGO_KEYFILE", *store_users.MONGO_PASSWORDS},
                 "elasticsearch-store": {"ELASTIC_PASSWORD", "ES_PASSWORD_SEARCH", "tls.crt", "tls.key", "ca.crt"}}
STORE_FILES = {"tls.crt", "tls.key", "ca.crt"}
SECRETS = {f"allies-{w}-secrets": set(keys_of(w)) | {"AMQP_URI"} | CARRIED[w] for w in WORKLOADS_WITH_SECRETS}
SECRETS["rabbitmq-broker"] = BROKER_FILES
SECRETS[autoscaling.AUTOSCALER_SECRET] = AUTOSCALER_KEYS
SECRETS.update(STORE_SECRETS)
# The gateway's onion service keys, which tor reads beside it (docs/reach.md).
ONION_SECRET = "allies-gateway-onion"
ONION_FILES = {"hs_ed25519_secret_key.b64", "hs_ed25519_public_key.b64"}
SECRETS[ONION_SECRET] = ONION_FILES
SECRET_USERS = {w: {f"allies-{w}-secrets"} for w in WORKLOADS_WITH_SECRETS}
SECRET_USERS["gateway"] = {"allies-gateway-secrets", ONION_SECRET}
SECRET_USERS["rabbitmq"] = {"rabbitmq-broker"}
SECRET_USERS["mongodb"] = {"mongodb-store"}
SECRET_USERS["elasticsearch"] = {"elasticsearch-store"}
# Passwords of broker users: in Kubernetes inside each workload's AMQP_URI; the operator's stays
# with the operator, as its signing key does.
BROKER_PASSWORDS = {k for k in SECRET_KEYS if k.startswith("AMQP_PASSWORD_")}
PRIVATE_KEYS = {"CONTACT_KEY", "NOTIFY_PRIVATE_KEY", "MESSAGE_KEYS", "REQUEST_TEXT_KEYS", "CAMPAIGN_TEXT_KEYS", "SIGNATURE_KEY",
                "VIEWER_SIGNING_KEY"} | {
    k for k in SECRET_KEYS if k.startswith("SEAL_KEY_")}
DEPLOYED_KEYS = tuple(k for k in SECRET_KEYS if k not in OPERATOR_ONLY and k not in BROKER_PASSWORDS)
# Compose has neither the operator's tooling nor an autoscaler, and runs one MongoDB member.
COMPOSE_KEYS = tuple(k for k in SECRET_KEYS if k not in OPERATOR_ONLY
                     and k not in ("AMQP_PASSWORD_OPERATOR", "AMQP_PASSWORD_AUTOSCALER", "MONGO_KEYFILE"))
# Applied by hand, never by `kubectl apply -k` (which would put the placeholders back).
SECRETS_FILE = "secrets.yaml"


def load_manifests():
    """(file name, document) for every Kubernetes object under deploy/k8s."""
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":  # kustomize's own file, not a Kubernetes object
            continue
        docs.extend((path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


MANIFESTS = load_manifests()


def objects(kind):
    return [doc for _, doc in MANIFESTS if doc["kind"] == kind]


def one(kind, name):
    found = [doc for doc in objects(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
    return found[0]


def containers(workload):
    return workload["spec"]["template"]["spec"]["containers"]


def env_value(container, name):
    return next((e.get("value") for e in container.get("env", []) if e["name"] == name), None)


def container_port(workload, port):
    """The number a Service's targetPort (a name or a number) points at in `workload`'s pods."""
    if isinstance(port, int):
        return port
    for container in containers(workload):
        for declared in container.get("ports", []):
            if declared.get("name") == port:
                return declared["containerPort"]
    raise AssertionError(f"no container port named {port!r} in {workload['metadata']['name']}")


def selected_workloads(service):
    """The Deployments and StatefulSets whose pods a Service's selector picks."""
    selector = service["spec"]["selector"].items()
    return [w for w in objects("Deployment") + objects("StatefulSet")
            if selector <= w["spec"]["template"]["metadata"]["labels"].items()]


def secret_values(secret):
    values = dict(secret.get("stringData", {}))
    values.update({k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()})
    return values


def secret_refs(workload):
    """Every Secret a workload's pods can read: envFrom, env valueFrom, volumes (also projected)."""
    pod = workload["spec"]["template"]["spec"]
    refs = set()
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        refs |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        refs |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", [])
                 if "secretKeyRef" in e.get("valueFrom", {})}
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            refs.add(volume["secret"]["secretName"])
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                refs.add(source["secret"]["name"])
    return refs


def config_yaml_keys():
    """The environment variables config.yaml substitutes (`${NAME:default}`)."""
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):", (ROOT / "config.yaml").read_text()))


def test_the_services_are_found():
    # Guards the discovery above: a wrong glob would make every per-service test vacuous.
    assert SERVICES == sorted(catalog.ALL)


# ---------------------------------------------------------------- Kubernetes: schema


@pytest.mark.parametrize(
    "name,doc", MANIFESTS,
    ids=[f"{name}:{doc['kind']}/{doc['metadata']['name']}" for name, doc in MANIFESTS])
def test_manifest_validates_against_the_kubernetes_schema(name, doc):
    try:
        # strict: unknown fields (a typo, a field at the wrong level) are errors too.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path)
        pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {exc.message} at {where}")


def test_kustomization_lists_every_manifest_but_the_secrets():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert SECRETS_FILE in files
    # Re-applying the kustomization must never overwrite the real Secrets with placeholders.
    assert sorted(kustomization["resources"]) == sorted(files - {SECRETS_FILE})
    assert all(doc["kind"] != "Secret" for name, doc in MANIFESTS if name != SECRETS_FILE)


def test_everything_lives_in_the_allies_namespace():
    assert one("Namespace", "allies")
    for name, doc in MANIFESTS:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "allies", f"{name}: {doc['kind']}"


def test_workload_selectors_match_their_pods():
    for workload in objects("Deployment") + objects("StatefulSet"):
        selector = workload["spec"]["selector"]["matchLabels"].items()
        labels = workload["spec"]["template"]["metadata"]["labels"].items()
        assert selector <= labels, workload["metadata"]["name"]


# ---------------------------------------------------------------- Kubernetes: the services


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_one_deployment_ready_for_production(service):
    chosen = [d for d in objects("Deployment")
              if any(env_value(c, "SERVICE") == service for c in containers(d))]
    assert len(chosen) == 1, f"{service}: {len(chosen)} Deployments run it"
    deployment = chosen[0]
    assert deployment["metadata"]["name"] == service
    # Its own replica count, so each service scales on its own.
    assert deployment["spec"]["replicas"] >= 1

    [container] = [c for c in containers(deployment) if c["name"] == service]
    assert container["image"] == IMAGE
    sources = container.get("envFrom", [])
    assert {"configMapRef": {"name": "allies-config"}} in sources

    for kind in ("cpu", "memory"):
        assert container["resources"]["requests"][kind], f"{service}: no {kind} request"
    assert container["resources"]["limits"]["memory"], f"{service}: no memory limit"

    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False

    assert "livenessProbe" in container and "readinessProbe" in container
    if service == "gateway":
        readiness = container["readinessProbe"]["httpGet"]
        assert readiness["path"] == "/healthz"
        assert container_port(deployment, readiness["port"]) == 8080
        assert env_value(container, "GATEWAY_ADDRESS") == "0.0.0.0:8080"
    else:
        # No HTTP port: both probes run the probe module, for this very service.
        for kind in ("livenessProbe", "readinessProbe"):
            command = container[kind]["exec"]["command"]
            assert command == ["python", "-m", "services.common.ops.probe", service]
        assert service in probe.SERVICES


def test_gateway_service_forwards_port_80_to_the_gateway_and_25_to_its_mail_relay():
    service = one("Service", "gateway")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    web, mail = service["spec"]["ports"]
    [workload] = selected_workloads(service)
    assert workload["metadata"]["name"] == "gateway"
    assert web["port"] == 80 and container_port(workload, web["targetPort"]) == 8080
    assert mail["port"] == 25 and container_port(workload, mail["targetPort"]) == 2525


def test_the_mail_relay_beside_the_gateway_posts_to_it_on_loopback_with_the_token_of_the_gateways_secret():
    [workload] = selected_workloads(one("Service", "gateway"))
    [relay] = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == "mailin"]
    assert relay["command"] == ["python", "-m", "services.mailin.relay"]
    env = {item["name"]: item for item in relay["env"]}
    assert env["MAIL_INTAKE_URL"]["value"] == "http://127.0.0.1:8080/api/intake/email"
    assert env["MAIL_INTAKE_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "allies-gateway-secrets",
                                                                     "key": "MAIL_INTAKE_TOKEN"}
    assert "envFrom" not in relay  # the token, and nothing else of the gateway's Secret
    assert relay["securityContext"]["readOnlyRootFilesystem"] and relay["securityContext"]["runAsNonRoot"]


def test_tor_serves_the_gateway_as_an_onion_service_beside_it_with_the_keys_of_its_secret():
    """Every gateway pod runs tor from the platform's image, forwarding the onion address's port 80
    to the gateway on the pod's loopback, with the keys copied from the Secret into a 0700 folder
    (docs/reach.md); the placeholders committed cannot start it (not base64)."""
    gateway = one("Deployment", "gateway")
    pod = gateway["spec"]["template"]["spec"]
    [tor] = [c for c in pod["containers"] if c["name"] == "tor"]
    assert tor["image"] == IMAGE and tor["command"] == ["tor", "-f", "/etc/allies/tor/torrc"]
    assert tor["securityContext"]["readOnlyRootFilesystem"] is True and "secretRef" not in str(tor)
    torrc = one("ConfigMap", "allies-gateway-torrc")["data"]["torrc"].splitlines()
    assert "HiddenServicePort 80 127.0.0.1:8080" in torrc and "SocksPort 0" in torrc
    assert "HiddenServiceDir /var/lib/tor/onion" in torrc
    assert env_value([c for c in pod["containers"] if c["name"] == "gateway"][0], "GATEWAY_ADDRESS") == "0.0.0.0:8080"
    [init] = pod["initContainers"]
    script = init["command"][-1]
    assert "umask 077" in script and all(f"/etc/allies/onion/{name}" in script for name in ONION_FILES)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["onion-keys"]["secret"]["secretName"] == ONION_SECRET and "emptyDir" in volumes["tor"]
    for value in secret_values(one("Secret", ONION_SECRET)).values():
        with pytest.raises(ValueError):
            base64.b64decode(value, validate=True)
    assert "ONION_ADDRESS" in one("ConfigMap", "allies-config")["data"]
    assert "tor" in (ROOT / "Dockerfile").read_text().split("fonts-noto-cjk", 1)[1].split("\n", 1)[0]


# ---------------------------------------------------------------- Kubernetes: stores and config


@pytest.mark.parametrize("store", sorted(STORES))
def test_each_store_runs_with_storage_probes_and_resources(store):
    service = one("Service", store)
    [workload] = selected_workloads(service)
    claims = workload["spec"].get("volumeClaimTemplates", [])
    mounted = {m["name"] for c in containers(workload) for m in c.get("volumeMounts", [])}
    assert any(claim["metadata"]["name"] in mounted for claim in claims), f"{store}: no persistent data"
    for container in containers(workload):
        assert "livenessProbe" in container and "readinessProbe" in container
        assert container["resources"]["requests"]["memory"]


def test_each_workload_reaches_the_broker_as_its_own_user_over_tls():
    config = one("ConfigMap", "allies-config")["data"]
    assert "AMQP_URI" not in config and json.loads(config["AMQP_SSL"])["cert_reqs"] == 2
    for workload in WORKLOADS_WITH_SECRETS:
        url = urlsplit(secret_values(one("Secret", f"allies-{workload}-secrets"))["AMQP_URI"])
        assert url.username == workload and url.port == 5671, workload
        service = one("Service", url.hostname)
        [broker] = selected_workloads(service)
        assert url.port in {container_port(broker, p["targetPort"]) for p in service["spec"]["ports"]}
    conf = one("ConfigMap", "rabbitmq-conf")["data"]["rabbitmq.conf"]
    assert "listeners.tcp = none" in conf and "listeners.ssl.default = 5671" in conf


def test_config_points_at_the_stores():
    data = one("ConfigMap", "allies-config")["data"]
    url = urlsplit(data["ES_URL"])
    service = one("Service", url.hostname)
    [workload] = selected_workloads(service)
    assert url.port in {container_port(workload, p["targetPort"]) for p in service["spec"]["ports"]}
    # MongoDB: every member of the replica set, by its stable name, and the set's name.
    parsed = uri_parser.parse_uri(data["MONGO_URI"])
    mongodb = one("StatefulSet", "mongodb")
    assert parsed["options"]["replicaSet"] == replica_set_name(mongodb)
    assert sorted(f"{host}:{port}" for host, port in parsed["nodelist"]) == [
        f"{pod}:27017" for pod in pod_names(mongodb)]
    assert container_port(mongodb, "mongodb") == 27017


# ---------------------------------------------------------------- Kubernetes: clustered stores


def pod_names(statefulset):
    """The stable DNS name of each pod of a StatefulSet, through its governing (headless) Service."""
    name, service = statefulset["metadata"]["name"], statefulset["spec"]["serviceName"]
    return [f"{name}-{i}.{service}.allies.svc.cluster.local" for i in range(statefulset["spec"]["replicas"])]


def replica_set_name(statefulset):
    [container] = containers(statefulset)
    args = container["args"]
    return args[args.index("--replSet") + 1]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("store", sorted(STORES))
def test_each_store_is_a_three_node_cluster_that_survives_losing_one(store):
    statefulset = one("StatefulSet", store)
    spec = statefulset["spec"]
    assert spec["replicas"] == 3
    # A node that was not the last to stop waits for its peers: an ordered start would deadlock
    # after all of them stopped together.
    assert spec["podManagementPolicy"] == "Parallel"
    governing = one("Service", spec["serviceName"])
    assert governing["spec"]["clusterIP"] == "None" and governing["spec"]["publishNotReadyAddresses"] is True
    assert selected_workloads(governing) == [statefulset]
    # No two nodes on one machine, and at most one down for maintenance.
    [rule] = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname"
    assert rule["labelSelector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    budgets = [b for b in objects("PodDisruptionBudget")
               if b["spec"]["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()]
    assert [b["spec"] for b in budgets] == [{"maxUnavailable": 1, "selector": budgets[0]["spec"]["selector"]}]


def test_rabbitmq_nodes_are_named_as_their_peers_list_them():
    statefulset = one("StatefulSet", "rabbitmq")
    conf = one("ConfigMap", "rabbitmq-conf")["data"]["rabbitmq.conf"]
    settings = dict(line.split(" = ", 1) for line in conf.splitlines() if " = " in line and not line.startswith("#"))
    assert settings["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = sorted(v for k, v in settings.items() if k.startswith("cluster_formation.classic_config.nodes."))
    assert listed == [f"rabbit@{pod}" for pod in pod_names(statefulset)]
    [container] = containers(statefulset)
    env = env_of(container)
    assert env["RABBITMQ_USE_LONGNAME"] == "true"
    pod = pod_names(statefulset)[0].split(".", 1)
    assert env["RABBITMQ_NODENAME"] == f"rabbit@$(POD_NAME).{pod[1]}"
    assert settings["cluster_partition_handling"] == "pause_minority"
    assert settings["quorum_queue.continuous_membership_reconciliation.target_group_size"] == "3"
    # The Erlang cookie: copied from the broker's Secret, readable by its owner only.
    [init] = statefulset["spec"]["template"]["spec"]["initContainers"]
    assert "chmod 600 /var/lib/rabbitmq/.erlang.cookie" in init["command"][-1]
    for port in ("epmd", "cluster"):
        container_port(statefulset, port)


def test_elasticsearch_nodes_find_each_other_and_form_one_cluster():
    statefulset = one("StatefulSet", "elasticsearch")
    env = env_of(containers(statefulset)[0])
    assert "discovery.type" not in env
    assert env["node.name"] == "$(POD_NAME)"
    assert env["cluster.initial_master_nodes"].split(",") == [
        f"{statefulset['metadata']['name']}-{i}" for i in range(statefulset["spec"]["replicas"])]
    seeds = one("Service", env["discovery.seed_hosts"])
    assert selected_workloads(seeds) == [statefulset]
    assert 9300 in {container_port(statefulset, p["targetPort"]) for p in seeds["spec"]["ports"]}
    # And every index keeps a copy on another node.
    from services.search import indices
    assert indices.SETTINGS["auto_expand_replicas"] == "0-1"


def test_mongodb_replica_set_is_initiated_with_every_member():
    statefulset = one("StatefulSet", "mongodb")
    job = one("Job", "mongodb-replica-set")
    [container] = job["spec"]["template"]["spec"]["containers"]
    script = container["command"][-1]
    rs_name = replica_set_name(statefulset)
    assert f'rs.initiate({{_id: "{rs_name}"' in script
    count = statefulset["spec"]["replicas"]
    assert f"[{', '.join(str(i) for i in range(count))}].map" in script
    assert "`mongodb-${i}.mongodb.allies.svc.cluster.local:27017`" in script
    assert container["command"][2].startswith(f"mongodb://{pod_names(statefulset)[0]}:27017/")
    # Nothing weakens the majority write concern the replica set gives by default.
    assert "w=" not in one("ConfigMap", "allies-config")["data"]["MONGO_URI"]


# ---------------------------------------------------------------- Kubernetes: autoscaling (KEDA)

AUTOSCALING = K8S / "autoscaling"
KEDA_CRDS = ROOT / ".local" / "keda-crds-2.16.1"
# The metadata KEDA 2.16's RabbitMQ scaler reads from a trigger (pkg/scalers/rabbitmq_scaler.go).
RABBITMQ_TRIGGER_KEYS = {"queueName", "mode", "queueLength", "value", "activationValue", "host", "protocol",
                         "vhostName", "useRegex", "excludeUnacknowledged", "pageSize", "operation", "timeout",
                         "unsafeSsl", "hostFromEnv", "usernameFromEnv", "passwordFromEnv"}


def autoscaling_documents():
    return [doc for doc in yaml.safe_load_all((AUTOSCALING / "scaledobjects.yaml").read_text()) if doc]


@functools.cache
def keda_schema(kind):
    """The openAPIV3Schema of KEDA's CRD for `kind`, strict."""
    return crd_schema(KEDA_CRDS / f"keda.sh_{kind.lower()}s.yaml")


def crd_schema(path):
    """The openAPIV3Schema of the CRD at `path`, strict: an unknown field is an error, as
    `kubectl apply` (server-side field validation) reports it."""
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/install-deploy-tools.sh")
    [version] = yaml.safe_load(path.read_text())["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]

    def close(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            # Go's regular expressions take flags anywhere (`^(?i)...`); Python's at the start only.
            if isinstance(node.get("pattern"), str) and node["pattern"].startswith("^(?i)"):
                node["pattern"] = "(?i)^" + node["pattern"][len("^(?i)"):]
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)
    close(schema)
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def test_the_autoscaling_manifest_is_what_the_services_entrypoints_make():
    # A handler added without running the generator would be a queue nobody scales on.
    assert (AUTOSCALING / "scaledobjects.yaml").read_text() == autoscaling.manifest(), \
        "run: python -m services.common.ops.autoscaling > deploy/k8s/autoscaling/scaledobjects.yaml"
    kustomization = yaml.safe_load((AUTOSCALING / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["..", "scaledobjects.yaml"]


@pytest.mark.parametrize("doc", autoscaling_documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_autoscaling_objects_validate_against_their_schemas(doc):
    assert doc["metadata"]["namespace"] == "allies"
    if doc["apiVersion"].startswith("keda.sh/"):
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        jsonschema.validate(doc, keda_schema(doc["kind"]))
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_keda_schemas_refuse_what_they_should():
    # Guards the check above: a misplaced field and a wrong type are both caught.
    [scaled] = [d for d in autoscaling_documents() if d["kind"] == "ScaledObject"][:1]
    wrong = json.loads(json.dumps(scaled))
    wrong["spec"]["minReplicas"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, keda_schema("ScaledObject"))
    wrong = json.loads(json.dumps(scaled))
    wrong["spec"]["maxReplicaCount"] = "four"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, keda_schema("ScaledObject"))


def rpc_servers():
    """Services with at least one RPC method, read from their entrypoints."""
    from nameko.rpc import Rpc
    found = set()
    for service in SERVICES:
        module = __import__(f"services.{service}.service", fromlist=["service"])
        for cls in vars(module).values():
            if isinstance(cls, type) and getattr(cls, "name", None) == service:
                if any(isinstance(e, Rpc) for m in vars(cls).values() for e in getattr(m, "nameko_entrypoints", ())):
                    found.add(service)
    return found


def test_every_deployment_is_scaled_and_every_consumer_on_every_queue_it_reads():
    scaled = {d["metadata"]["name"]: d for d in autoscaling_documents() if d["kind"] == "ScaledObject"}
    assert set(scaled) == set(SERVICES)
    event_queues = [name for source in topology.SERVICES for name, _ in topology.consumers_of(source)]
    assert len(event_queues) > 20
    servers = rpc_servers()
    assert servers == set(catalog.BACKEND)
    for service, doc in scaled.items():
        spec = doc["spec"]
        deployment = one("Deployment", spec["scaleTargetRef"]["name"])
        assert deployment["metadata"]["name"] == service
        # Never to zero: every service has timers or answers RPCs.
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        triggers = spec["triggers"]
        if service == "gateway":
            assert [t["type"] for t in triggers] == ["cpu"]
            assert containers(deployment)[0]["resources"]["requests"]["cpu"]  # utilization is of this
            continue
        expected = {q for q in event_queues if q.split("--")[1].split(".")[0] == service}
        expected |= {f"rpc-{service}"} if service in servers else set()
        assert {t["metadata"]["queueName"] for t in triggers} == expected, service
        for trigger in triggers:
            assert trigger["type"] == "rabbitmq"
            assert set(trigger["metadata"]) <= RABBITMQ_TRIGGER_KEYS
            # A passive declare over AMQP (all the autoscaler user may do): queue length only.
            assert trigger["metadata"]["protocol"] == "amqp" and trigger["metadata"]["mode"] == "QueueLength"
            assert int(trigger["metadata"]["value"]) >= 1
            assert "host" not in trigger["metadata"]  # the password stays in the Secret
            assert trigger["authenticationRef"]["name"] == autoscaling.TRIGGER_AUTHENTICATION


def test_keda_reaches_the_broker_as_the_autoscaler_over_verified_tls():
    [auth] = [d for d in autoscaling_documents() if d["kind"] == "TriggerAuthentication"]
    refs = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
    assert set(refs) == {"host", "tls", "ca"}
    secret = secret_values(one("Secret", autoscaling.AUTOSCALER_SECRET))
    assert {name for name, _ in refs.values()} == {autoscaling.AUTOSCALER_SECRET}
    values = {parameter: secret[key] for parameter, (_, key) in refs.items()}
    assert values["tls"] == "enable" and values["ca"] == secret_values(one("Secret", "rabbitmq-broker"))["ca.crt"]
    url = urlsplit(values["host"])
    # amqps: KEDA's client speaks TLS only for that scheme; from its own namespace, by full name.
    assert url.scheme == "amqps" and url.username == "autoscaler" and url.port == 5671
    service_name, namespace = url.hostname.split(".")[:2]
    assert namespace == "allies" and url.hostname == f"{service_name}.allies.svc.cluster.local"
    [broker] = selected_workloads(one("Service", service_name))
    assert broker["metadata"]["name"] == "rabbitmq"
    # The broker lets KEDA's namespace in, to that port alone.
    [policy] = [d for d in autoscaling_documents() if d["kind"] == "NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= broker["spec"]["template"]["metadata"]["labels"].items()
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5671}]


def test_configmap_keys_are_read_by_config_yaml():
    # A misspelt key (MONGO_URL) would be silently ignored and the default used instead.
    read = config_yaml_keys()
    config = one("ConfigMap", "allies-config")["data"]
    assert set(config) <= read, set(config) - read
    # notify's email settings and matching's/analytics' tuning are set by the deployment.
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "PUBLIC_URL", "MATCH_TOP_K", "MATCH_EXPIRY_S",
                "ANALYTICS_MIN_BUCKET"):
        assert key in config, key


def test_webhooks_cannot_reach_private_addresses():
    # An organization's webhook URL must not be able to reach the stores or the cluster network.
    assert one("ConfigMap", "allies-config")["data"]["WEBHOOK_ALLOW_PRIVATE"] == "false"
    for name, service in compose_config()["services"].items():
        assert "WEBHOOK_ALLOW_PRIVATE" not in (service.get("environment") or {}), name
    # config.yaml's default, which compose relies on, is off.
    assert "${WEBHOOK_ALLOW_PRIVATE:false}" in (ROOT / "config.yaml").read_text()


def test_secret_keys_are_read_by_config_yaml():
    read = config_yaml_keys()
    for secret in objects("Secret"):
        # Files the broker reads, what KEDA reads and tor's keys: not the services' config.
        if secret["metadata"]["name"] in ("rabbitmq-broker", autoscaling.AUTOSCALER_SECRET, ONION_SECRET,
                                          *STORE_SECRETS):
            continue
        keys = set(secret_values(secret))
        assert keys <= read, (secret["metadata"]["name"], keys - read)


def test_each_secret_holds_exactly_its_keys():
    assert {s["metadata"]["name"]: set(secret_values(s)) for s in objects("Secret")} == SECRETS


def test_every_secret_key_has_a_home_and_a_private_one_only_one():
    # A key added to services.common.ops.secrets must be given a home here; one that opens or signs,
    # exactly one; the operator's signing key none at all.
    for key in SECRET_KEYS:
        holders = [s["metadata"]["name"] for s in objects("Secret") if key in secret_values(s)]
        if key in BROKER_PASSWORDS:
            continue  # inside AMQP_URI (checked above)
        if key in OPERATOR_ONLY:
            assert holders == [], f"{key} is in {holders}"
        elif key in PRIVATE_KEYS:
            assert len(holders) == 1, f"{key} is in {holders}"
        else:
            assert holders, f"{key} is in no Secret"
    carried = {name for names in CARRIED.values() for name in names}
    held = ({k for s in objects("Secret") for k in secret_values(s)} - BROKER_FILES - AUTOSCALER_KEYS - STORE_FILES
            - ONION_FILES - carried)
    assert held == set(DEPLOYED_KEYS), held ^ set(DEPLOYED_KEYS)


@pytest.mark.parametrize("workload", [w["metadata"]["name"] for w in
                                      objects("Deployment") + objects("StatefulSet")])
def test_each_workload_reads_only_its_own_secret(workload):
    [found] = [w for w in objects("Deployment") + objects("StatefulSet")
               if w["metadata"]["name"] == workload]
    assert secret_refs(found) == SECRET_USERS.get(workload, set())


def test_the_secret_users_exist():
    # Guards the check above: a renamed Deployment would silently lose its expected Secret.
    workloads = {d["metadata"]["name"] for d in objects("Deployment") + objects("StatefulSet")}
    assert set(SECRET_USERS) <= workloads
    assert {name for names in SECRET_USERS.values() for name in names} == set(SECRETS) - {autoscaling.AUTOSCALER_SECRET}


def test_no_secret_value_is_in_a_configmap():
    secrets = {k: v for s in objects("Secret") for k, v in secret_values(s).items()}
    assert secrets and all(secrets.values()), "a Secret is missing or has an empty value"
    secrets.pop("ca.crt")  # the broker's CA certificate is public: the services' ConfigMap has it too
    secrets.pop("tls")  # "enable", KEDA's switch: not a secret, and a word any comment may hold
    for config in objects("ConfigMap"):
        for key, value in config["data"].items():
            # Same key in both: whichever envFrom comes last would win, silently.
            assert key not in secrets, key
            assert not any(secret in str(value) for secret in secrets.values()), f"{key} holds a secret"


def committed_secrets():
    return {k: v for s in objects("Secret") for k, v in secret_values(s).items()}


# A real key must never be committed, and a placeholder applied by mistake must stop the service
# (each refuses a key it cannot load) rather than seal people's data with a published key.
# Each check loads the value the way the service does.
def test_committed_contact_key_is_a_placeholder_that_cannot_be_used():
    key = committed_secrets()["CONTACT_KEY"]
    assert "REPLACE" in key
    with pytest.raises(ValueError):
        Fernet(key)


def test_committed_message_keys_are_placeholders_that_cannot_be_used():
    value = committed_secrets()["MESSAGE_KEYS"]
    entries = [entry.strip() for entry in value.split(",")]
    assert entries and all("REPLACE" in entry for entry in entries)
    for entry in entries:
        with pytest.raises(ValueError):
            Fernet(entry)
    with pytest.raises(ValueError):
        cipher_from_config(value)


@pytest.mark.parametrize("key,loader", [("NOTIFY_PUBLIC_KEY", Sealer), ("NOTIFY_PRIVATE_KEY", Opener)])
def test_committed_rsa_keys_are_placeholders_that_cannot_be_used(key, loader):
    value = committed_secrets()[key]
    assert "REPLACE" in value
    with pytest.raises(ValueError):  # not base64 of a PEM key
        loader(value)


# ---------------------------------------------------------------- Kubernetes: store users


def deployment_env(name):
    [container] = [c for c in containers(one("Deployment", name)) if c["name"] == name]
    return env_of(container)


@pytest.mark.parametrize("workload", WORKLOADS_WITH_SECRETS)
def test_each_workload_signs_in_to_the_stores_as_its_own_user(workload):
    env, secret = deployment_env(workload), secret_values(one("Secret", f"allies-{workload}-secrets"))
    if workload in store_users.SERVICES:
        assert env["MONGO_USERNAME"] == workload
        assert secret["MONGO_PASSWORD"] == f"REPLACE_ME-its-MONGO_PASSWORD_{workload.upper()}"
    else:  # the gateway has no database
        assert "MONGO_USERNAME" not in env and "MONGO_PASSWORD" not in secret
    if workload == store_users.ES_SERVICE:
        assert env["ES_USERNAME"] == workload and secret["ES_PASSWORD"] == "REPLACE_ME-its-ES_PASSWORD_SEARCH"
    else:
        assert "ES_USERNAME" not in env and "ES_PASSWORD" not in secret


def test_mongodb_signs_everyone_in_and_gives_each_service_its_own_database_only():
    statefulset = one("StatefulSet", "mongodb")
    [container] = containers(statefulset)
    args = container["args"]
    # A keyfile turns authentication on, for clients and between the members.
    assert args[args.index("--keyFile") + 1] == "/etc/mongodb-key/keyfile"
    root = next(e for e in container["env"] if e["name"] == "MONGO_INITDB_ROOT_PASSWORD")
    assert root["valueFrom"]["secretKeyRef"] == {"name": "mongodb-store", "key": "MONGO_ROOT_PASSWORD"}
    [copy] = statefulset["spec"]["template"]["spec"]["initContainers"]
    assert "umask 077" in copy["command"][-1]  # mongod refuses a key others may read
    job = one("Job", "mongodb-replica-set")
    [initiate] = job["spec"]["template"]["spec"]["containers"]
    script = initiate["command"][-1]
    assert 'auth("root", root)' in script and "process.env.MONGO_ROOT_PASSWORD" in script
    assert f"for (const service of {json.dumps(list(store_users.SERVICES))})" in script
    assert '[{role: "readWrite", db: `${process.env.DB_PREFIX}_${service}`}]' in script
    assert {"secretRef": {"name": "mongodb-store"}} in initiate["envFrom"]


def test_elasticsearch_signs_everyone_in_and_has_one_user_for_search():
    [container] = containers(one("StatefulSet", "elasticsearch"))
    env = env_of(container)
    assert env["xpack.security.enabled"] == "true" and env["xpack.security.transport.ssl.enabled"] == "true"
    assert "ELASTIC_PASSWORD" in command_text(container["readinessProbe"]["exec"]["command"])
    job = one("Job", "elasticsearch-users")
    [users] = job["spec"]["template"]["spec"]["containers"]
    # The compose set-up script, word for word.
    script = [line for line in (ROOT / "deploy/compose/es-users.sh").read_text().splitlines() if not line.startswith("#")]
    assert users["command"][-1].splitlines() == script
    assert r'[\"$ES_INDEX_PREFIX-*\"]' in users["command"][-1]
    assert "$ES_PASSWORD_SEARCH" in users["command"][-1] and "_security/user/search" in users["command"][-1]


def command_text(command):
    return " ".join(command)


def ingress_from(store):
    """{port: the app names whose pods may reach it} for a store's pods, over every NetworkPolicy."""
    labels = one("StatefulSet", store)["spec"]["template"]["metadata"]["labels"]
    allowed = {}
    for policy in objects("NetworkPolicy"):
        if not policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items():
            continue
        for rule in policy["spec"]["ingress"]:
            names = set()
            for peer in rule["from"]:
                selector = peer["podSelector"]
                names |= set(selector.get("matchLabels", {}).values())
                for expression in selector.get("matchExpressions", []):
                    assert expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In"
                    names |= set(expression["values"])
            for port in rule.get("ports") or [{"port": "any"}]:
                allowed.setdefault(port["port"], set()).update(names)
    return allowed


def test_each_store_is_reachable_only_from_the_workloads_that_use_it():
    assert ingress_from("mongodb") == {27017: {*store_users.SERVICES, "mongodb-replica-set", "mongodb"}}
    assert ingress_from("elasticsearch") == {9200: {"search", "elasticsearch-users", "elasticsearch"},
                                             9300: {"elasticsearch"}}
    broker = ingress_from("rabbitmq")
    assert broker[5671] == set(SERVICES) and broker["any"] == {"rabbitmq"}
    # The names are the pods' own labels (a typo would allow no one, silently).
    for name in {*SERVICES, "mongodb-replica-set", "elasticsearch-users"}:
        [workload] = [w for w in objects("Deployment") + objects("StatefulSet") + objects("Job")
                      if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == name]


def test_compose_stores_sign_everyone_in():
    services = compose_config()["services"]
    assert services["mongo"]["environment"]["MONGO_INITDB_ROOT_USERNAME"] == "root"
    assert any("mongo-users.js:/docker-entrypoint-initdb.d/" in str(v) for v in services["mongo"]["volumes"])
    assert services["elasticsearch"]["environment"]["xpack.security.enabled"] == "true"
    search = services["search"]
    assert search["depends_on"]["elasticsearch-users"]["condition"] == "service_completed_successfully"
    script = (ROOT / "deploy/compose/mongo-users.js").read_text()
    assert f"for (const service of {json.dumps(list(store_users.SERVICES))})" in script
    assert 'roles = [{role: "readWrite", db: `allies_${service}`}]' in script


# ---------------------------------------------------------------- compose.yaml


# Plain functions, not fixtures: a missing tool must fail each compose test, not error or skip.
@functools.cache
def compose_command():
    """A Compose implementation: Docker's plugin if present, else docker-compose."""
    if shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    pytest.fail("no Compose implementation found: run scripts/install-deploy-tools.sh")


# Distinct values, so that where each one lands in the resolved file can be traced.
TEST_SECRETS = {key: f"test-value-of-{key}" for key in SECRET_KEYS}
COMPOSE_SECRETS = {w: set(keys_of(w)) | {f"AMQP_PASSWORD_{w.upper()}"} |
                   {k for k, (_, owner) in store_users.CARRIED_AS.items() if owner == w} for w in WORKLOADS_WITH_SECRETS}
COMPOSE_SECRETS.update({"mongo": {"MONGO_ROOT_PASSWORD", *store_users.MONGO_PASSWORDS},
                        "elasticsearch": {"ELASTIC_PASSWORD"},
                        "elasticsearch-users": {"ELASTIC_PASSWORD", "ES_PASSWORD_SEARCH"}})
# Containers that set a store up and exit.
COMPOSE_JOBS = {"elasticsearch-users"}
# Settings the tests set themselves; whatever the calling shell (or `./dev test`) has is dropped.
COMPOSE_INPUTS = set(SECRET_KEYS) | {"SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "PUBLIC_URL"}


@functools.cache
def empty_env_file():
    """An empty file for --env-file, so that a developer's own .env cannot change the results."""
    handle = tempfile.NamedTemporaryFile("w", prefix="compose-", suffix=".env", delete=False)
    handle.close()
    return handle.name


def compose(*args, secrets=TEST_SECRETS, **settings):
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_INPUTS}
    env.update(secrets)
    env.update(settings)
    return subprocess.run([*compose_command(), "--env-file", empty_env_file(),
                           "-f", str(ROOT / "compose.yaml"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@functools.cache
def compose_config():
    """compose.yaml as Compose resolves it: anchors merged, variables substituted."""
    result = compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("how", ["unset", "empty"])
@pytest.mark.parametrize("key", COMPOSE_KEYS)
def test_compose_refuses_to_start_without_each_secret(key, how):
    secrets = {k: v for k, v in TEST_SECRETS.items() if k != key}
    if how == "empty":
        secrets[key] = ""
    result = compose("config", "-q", secrets=secrets)
    assert result.returncode != 0
    # The message of `${KEY:?KEY is not set...}` itself, not the raw `${...}` text that
    # docker-compose v1 also prints (which names the service's other secrets too).
    assert re.search(rf"(?<!\?){key} is not set", result.stderr), result.stderr


def test_compose_gives_each_secret_only_to_its_container():
    config = compose_config()
    assert set(COMPOSE_SECRETS) <= set(config["services"])
    for name, service in config["services"].items():
        env = service.get("environment") or {}
        # A broker password is given inside the service's AMQP_URI, as its own user's.
        carried = {k for k in BROKER_PASSWORDS if TEST_SECRETS[k] in str(env.get("AMQP_URI", ""))}
        if carried:
            assert urlsplit(env["AMQP_URI"]).username == name and urlsplit(env["AMQP_URI"]).port == 5671
        # A store user's password, as MONGO_PASSWORD or ES_PASSWORD, beside its own user name.
        for key, (variable, owner) in store_users.CARRIED_AS.items():
            if env.get(variable) == TEST_SECRETS[key]:
                assert owner == name and env[variable.replace("PASSWORD", "USERNAME")] == name, (name, key)
                carried.add(key)
        if env.get("MONGO_INITDB_ROOT_PASSWORD") == TEST_SECRETS["MONGO_ROOT_PASSWORD"]:  # the image's name for it
            assert name == "mongo"
            carried.add("MONGO_ROOT_PASSWORD")
        given = {k for k in SECRET_KEYS if k in env} | carried
        assert given == COMPOSE_SECRETS.get(name, set()), name
        for key in given - carried:
            assert env[key] == TEST_SECRETS[key], f"{name}: {key} is not taken from the environment"
        # Nor anywhere else in its definition (a label, a command, another variable).
        others = {k: v for k, v in env.items() if k not in given and k not in ("AMQP_URI", "MONGO_PASSWORD", "ES_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD")}
        text = yaml.safe_dump({**service, "environment": others})
        leaked = [k for k, v in TEST_SECRETS.items() if v in text]
        assert not leaked, f"{name}: {leaked}"


def test_compose_services_read_no_env_file():
    # env_file would hand a container every line of the file, the secrets of the others too.
    raw = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name, service in raw["services"].items():
        assert "env_file" not in service, name


def test_compose_gives_notify_its_mail_relay():
    notify = compose_config()["services"]["notify"]["environment"]
    # Defaults: a relay on the Docker host, which the container can resolve.
    assert notify["SMTP_HOST"] == "host.docker.internal" and str(notify["SMTP_PORT"]) == "25"
    assert notify["SMTP_FROM"] and notify["PUBLIC_URL"]
    hosts = compose_config()["services"]["notify"].get("extra_hosts", [])
    assert any(str(h).startswith("host.docker.internal") for h in hosts)
    # And the operator's own, from the environment.
    result = compose("config", SMTP_HOST="relay.example.org", SMTP_PORT="587",
                     PUBLIC_URL="https://allies.example.org")
    assert result.returncode == 0, result.stderr
    notify = yaml.safe_load(result.stdout)["services"]["notify"]["environment"]
    assert (notify["SMTP_HOST"], str(notify["SMTP_PORT"]), notify["PUBLIC_URL"]) == (
        "relay.example.org", "587", "https://allies.example.org")
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "PUBLIC_URL"):
        assert key in config_yaml_keys(), key


def compose_stores(config):
    return set(config["services"]) - set(SERVICES) - COMPOSE_JOBS


def test_compose_runs_the_official_store_images_with_healthchecks():
    config = compose_config()
    services = config["services"]
    images = {services[name]["image"].split(":")[0] for name in compose_stores(config)}
    assert images == {"rabbitmq", "mongo", "docker.elastic.co/elasticsearch/elasticsearch"}
    for name in compose_stores(config):
        assert services[name]["healthcheck"]["test"], name
        # Data outlives containers: each store keeps it in a named volume.
        sources = {v.split(":")[0] if isinstance(v, str) else v["source"]
                   for v in services[name].get("volumes", [])}
        assert sources & set(config.get("volumes", {})), f"{name}: no named volume"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_each_service_after_healthy_stores(service):
    config = compose_config()
    services = config["services"]
    assert service in services, f"no container for {service}"
    container = services[service]
    env = container["environment"]
    assert env["SERVICE"] == service
    assert container["image"] == IMAGE and "build" in container
    # Every container waits for every store to be healthy, not merely started.
    depends = container["depends_on"]
    stores = compose_stores(config)
    assert set(depends) >= stores
    assert all(depends[store]["condition"] == "service_healthy" for store in stores)
    # And its URLs name those stores.
    for key in ("AMQP_URI", "MONGO_URI", "ES_URL"):
        assert urlsplit(env[key]).hostname in stores, key


def test_compose_gateway_is_published_and_health_checked():
    gateway = compose_config()["services"]["gateway"]
    ports = {(str(p["published"]), int(p["target"])) for p in gateway["ports"]}
    assert ("8080", 8080) in ports
    assert gateway["environment"]["GATEWAY_ADDRESS"] == "0.0.0.0:8080"
    assert "/healthz" in " ".join(gateway["healthcheck"]["test"])


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions():
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [line.split(None, 1) for line in lines if line and not line.startswith("#")]


def test_image_runs_as_the_unprivileged_user():
    instructions = dockerfile_instructions()
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM"):]
    users = [arg for op, arg in final_stage if op == "USER"]
    assert users and users[-1].split(":")[0] == "10001"


def test_dockerignore_keeps_secrets_out_but_not_what_the_image_needs():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    # .local holds secrets.env and server data, .env the secrets for Compose: neither may ever
    # reach a build context.
    assert ".local" in patterns and ".git" in patterns and ".env" in patterns
    copied = [arg.split()[:-1] for op, arg in dockerfile_instructions()
              if op == "COPY" and not arg.startswith("--from")]
    for sources in copied:
        for source in sources:
            source = source.rstrip("/")
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, p) for p in patterns), f"{source} is ignored"


def test_env_file_for_compose_is_git_ignored():
    # `python -m services.common.ops.secrets > .env` must not end up in a commit.
    result = subprocess.run(["git", "check-ignore", "-q", "--no-index", ".env"], cwd=ROOT)
    assert result.returncode == 0, ".env is not git-ignored"


# ---------------------------------------------------------------- Kubernetes: monitoring

MONITORING = K8S / "monitoring"
PROM_OPERATOR_CRDS = ROOT / ".local" / "prometheus-operator-crds-0.80.1"


def monitoring_documents():
    return [doc for doc in yaml.safe_load_all((MONITORING / "monitoring.yaml").read_text()) if doc]


def test_the_monitoring_manifests_are_what_the_catalog_and_the_rules_make():
    from services.common.ops import monitoring
    # A service added to the catalog, or a rule added, without running the generator fails here.
    assert (MONITORING / "monitoring.yaml").read_text() == monitoring.k8s_manifest()
    assert json.loads((MONITORING / "dashboard.json").read_text()) == monitoring.dashboard()
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["..", "monitoring.yaml"]
    [generated] = kustomization["configMapGenerator"]
    assert generated["files"] == ["dashboard.json"] and generated["options"]["labels"]["grafana_dashboard"] == "1"


@functools.cache
def prom_operator_schema(kind):
    return crd_schema(PROM_OPERATOR_CRDS / f"monitoring.coreos.com_{kind.lower()}s.yaml")


@pytest.mark.parametrize("doc", monitoring_documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_monitoring_objects_validate_against_their_schemas(doc):
    assert doc["metadata"]["namespace"] == "allies"
    if doc["apiVersion"].startswith("monitoring.coreos.com/"):
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
        jsonschema.validate(doc, prom_operator_schema(doc["kind"]))
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_operator_schemas_refuse_what_they_should():
    [monitor] = [d for d in monitoring_documents() if d["metadata"]["name"] == "allies-services"]
    wrong = json.loads(json.dumps(monitor))
    wrong["spec"]["podMetricsEndpoints"][0]["scrapeEvery"] = "30s"  # no such field
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, prom_operator_schema("PodMonitor"))
    [rule] = [d for d in monitoring_documents() if d["kind"] == "PrometheusRule"]
    wrong = json.loads(json.dumps(rule))
    wrong["spec"]["groups"][0]["rules"][0]["for"] = 5  # a duration is a string
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, prom_operator_schema("PrometheusRule"))


def test_prometheus_finds_every_service_and_the_broker_on_the_ports_it_scrapes():
    from services.common.ops import monitoring
    port = int(one("ConfigMap", "allies-config")["data"]["METRICS_PORT"])
    assert port == monitoring.K8S_METRICS_PORT
    [services] = [d for d in monitoring_documents() if d["metadata"]["name"] == "allies-services"]
    [selected] = services["spec"]["selector"]["matchExpressions"]
    assert set(selected["values"]) == set(SERVICES)
    for service in SERVICES:
        [deployment] = [d for d in objects("Deployment") if d["metadata"]["name"] == service]
        [container] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service]
        assert {"name": "metrics", "containerPort": port} in container["ports"], service
    [broker] = [c for c in one("StatefulSet", "rabbitmq")["spec"]["template"]["spec"]["containers"]]
    assert {"name": "prometheus", "containerPort": 15692} in broker["ports"]
    # The plugin signs nobody in: only the monitoring namespace may reach its port; the services'
    # metrics ports likewise, and the backends take no other connection.
    policies = {d["metadata"]["name"]: d["spec"] for d in monitoring_documents() if d["kind"] == "NetworkPolicy"}
    from_prometheus = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}
    assert policies["broker-metrics-from-prometheus"]["ingress"] == [
        dict(from_prometheus, ports=[{"protocol": "TCP", "port": 15692}])]
    backends = policies["services-metrics-from-prometheus"]
    assert set(backends["podSelector"]["matchExpressions"][0]["values"]) == set(catalog.BACKEND)
    assert backends["ingress"] == [dict(from_prometheus, ports=[{"protocol": "TCP", "port": port}])]
    # The gateway still takes anyone on the ports its Service forwards (web, mail), and Prometheus on metrics.
    gateway = policies["gateway-metrics-from-prometheus"]
    open_ports = {p["port"] for rule in gateway["ingress"] if "from" not in rule for p in rule["ports"]}
    [service] = [d for d in objects("Service") if d["metadata"]["name"] == "gateway"]
    [deployment] = [d for d in objects("Deployment") if d["metadata"]["name"] == "gateway"]
    named = {p["name"]: p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
             for p in c.get("ports", [])}
    forwarded = {named.get(p["targetPort"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert open_ports == forwarded and port not in open_ports


def test_the_dashboard_has_a_row_per_service_and_names_only_metrics_the_services_export():
    from services.common import metrics
    from services.common.ops import monitoring
    board = monitoring.dashboard()
    rows = [panel["title"] for panel in board["panels"] if panel["type"] == "row"]
    assert rows == [*catalog.ALL, "broker and stores"]
    exported = ({family.name for family in metrics.REGISTRY.collect()}
                | {family.name for family in metrics.StoreCommands("any").collect()})
    exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    for expr in exprs:
        for name in re.findall(r"\b(allies_[a-z_]+)\b", expr):
            assert re.sub(r"_(total|bucket|count|sum)$", "", name) in exported, f"{name} is exported by no service"
    # The broker's and the stores' are checked against their exporters, live (tests/test_monitoring_stack.py).
