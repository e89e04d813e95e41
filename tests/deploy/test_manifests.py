"""The deployment artifacts, checked offline: Kubernetes manifests, compose.yaml, the Dockerfile.

Nothing here needs a cluster or a Docker engine. The Kubernetes schemas come from the
kubernetes-validate package; compose.yaml is checked by a real Compose implementation
(`docker compose` or Debian's `docker-compose`, installed by scripts/install-deploy-tools.sh).
"""
import base64
import fnmatch
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from services.common import probe

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
IMAGE = "allies/platform:latest"

# Every directory of services/ with a service.py is a service that must be deployed.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))
STORES = {"rabbitmq", "mongodb", "elasticsearch"}


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


def test_the_services_are_found():
    # Guards the discovery above: a wrong glob would make every per-service test vacuous.
    assert SERVICES == sorted(["profiles", "requests", "matching", "notify", "search", "gateway"])


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


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


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

    [container] = containers(deployment)
    assert container["image"] == IMAGE
    sources = container.get("envFrom", [])
    assert {"configMapRef": {"name": "allies-config"}} in sources
    assert {"secretRef": {"name": "allies-secrets"}} in sources

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
            assert command == ["python", "-m", "services.common.probe", service]
        assert service in probe.SERVICES


def test_gateway_service_forwards_port_80_to_the_gateway():
    service = one("Service", "gateway")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    [port] = service["spec"]["ports"]
    [workload] = selected_workloads(service)
    assert workload["metadata"]["name"] == "gateway"
    assert port["port"] == 80
    assert container_port(workload, port["targetPort"]) == 8080


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


def test_config_points_at_the_stores():
    data = one("ConfigMap", "allies-config")["data"]
    for key in ("AMQP_URI", "MONGO_URI", "ES_URL"):
        url = urlsplit(data[key])
        service = one("Service", url.hostname)
        [workload] = selected_workloads(service)
        assert url.port in {container_port(workload, p["targetPort"]) for p in service["spec"]["ports"]}, key


def test_config_and_secret_keys_are_read_by_config_yaml():
    # A misspelt key (MONGO_URL) would be silently ignored and the default used instead.
    read = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):", (ROOT / "config.yaml").read_text()))
    config = one("ConfigMap", "allies-config")["data"]
    secrets = secret_values(one("Secret", "allies-secrets"))
    assert set(config) <= read, set(config) - read
    assert set(secrets) <= read, set(secrets) - read
    assert "CONTACT_KEY" in secrets


def test_no_secret_value_is_in_a_configmap():
    secrets = {k: v for s in objects("Secret") for k, v in secret_values(s).items()}
    assert secrets and all(secrets.values()), "a Secret is missing or has an empty value"
    for config in objects("ConfigMap"):
        for key, value in config["data"].items():
            # Same key in both: whichever envFrom comes last would win, silently.
            assert key not in secrets, key
            assert not any(secret in str(value) for secret in secrets.values()), f"{key} holds a secret"


def test_committed_contact_key_is_a_placeholder_that_cannot_be_used():
    # A real key must never be committed, and a forgotten placeholder must stop the platform
    # (profiles refuses an invalid key) rather than seal contact details with a public key.
    key = secret_values(one("Secret", "allies-secrets"))["CONTACT_KEY"]
    assert "REPLACE" in key
    with pytest.raises(ValueError):
        Fernet(key)


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


def compose(*args, contact_key="test-key"):
    env = {k: v for k, v in os.environ.items() if k != "CONTACT_KEY"}
    if contact_key is not None:
        env["CONTACT_KEY"] = contact_key
    return subprocess.run([*compose_command(), "-f", str(ROOT / "compose.yaml"), *args],
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


def test_compose_refuses_to_start_without_a_contact_key():
    result = compose("config", "-q", contact_key=None)
    assert result.returncode != 0
    assert "CONTACT_KEY" in result.stderr


def compose_stores(config):
    return set(config["services"]) - set(SERVICES)


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
    # .local holds secrets.env and server data: it must never reach a build context.
    assert ".local" in patterns and ".git" in patterns
    copied = [arg.split()[:-1] for op, arg in dockerfile_instructions()
              if op == "COPY" and not arg.startswith("--from")]
    for sources in copied:
        for source in sources:
            source = source.rstrip("/")
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, p) for p in patterns), f"{source} is ignored"
