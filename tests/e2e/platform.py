"""Start the whole platform as real processes, one `nameko run` per service, like production.

Every process is started by the test and stopped by it, by process id. The platform gets its own
RabbitMQ vhost, database prefix and index prefix, so it shares the servers but nothing else.
"""
import os
import signal
import socket
import sys
import time
import uuid
from urllib.parse import urlparse

import requests

from services.common import catalog
from services.common.bus import topology
from services.common.ops import store_users
from services.common.config import ROOT
from services.common.ops.secrets import SECRET_KEYS
from tests.support import drop_test_data, isolated_config, native_subprocess, start_process, wait_until

SERVICES = catalog.ALL


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Platform:
    def __init__(self, rabbit_manager, amqp_uri, log_dir, **overrides):
        """`overrides`: config keys (e.g. MATCH_EXPIRY_S=2) given to every service's environment."""
        self.rabbit_manager = rabbit_manager
        self.vhost = f"e2e_{uuid.uuid4().hex[:10]}"
        self.amqp_uri = urlparse(amqp_uri)._replace(path=f"/{self.vhost}").geturl()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Tests sign many people up from one address; a module testing the limits sets its own.
        # Email goes to an unused port unless a module runs its own SMTP server: never to a
        # developer's `./dev up` mail folder.
        # BROKER_USERS=True: each service connects as its own least-privileged broker user
        # (services/common/ops/broker_users.py), as deploy/k8s and compose run them.
        self.broker_users = bool(overrides.pop("BROKER_USERS", False))
        self.broker_passwords = {}
        # Benchmarks and journeys post many needs from one author: the per-account caps are tested
        # where a module sets its own (tests/e2e/test_accounts_requests.py).
        overrides = {"SIGN_UP_LIMIT": 10_000, "LOGIN_SOURCE_MAX_FAILURES": 10_000, "CAMPAIGN_SIGN_LIMIT": 10_000,
                     "CAMPAIGN_LETTER_LIMIT": 10_000, "MAX_OPEN_REQUESTS": 100_000,
                     "MAX_INVITATIONS_A_DAY": 100_000, "SMTP_PORT": free_port(), **overrides}
        self.overrides = {key: str(value) for key, value in overrides.items()}
        self.config = isolated_config(self.amqp_uri, WEB_SERVER_ADDRESS=f"127.0.0.1:{self.port}", **overrides)
        self.log_dir = log_dir
        self.processes = {}
        self.metrics_ports = {}
        # Every service's spans (services/common/tracing.py): tracing on in every end-to-end test.
        self.trace_dir = os.path.join(log_dir, "traces")

    def env(self):
        env = dict(os.environ)
        env.update({
            "AMQP_URI": self.amqp_uri,
            "DB_PREFIX": self.config["DB_PREFIX"],
            "ES_INDEX_PREFIX": self.config["ES_INDEX_PREFIX"],
            **{key: self.config[key] for key in SECRET_KEYS},
            "GATEWAY_ADDRESS": self.config["WEB_SERVER_ADDRESS"],
            "PYTHONPATH": ROOT,
            "MAX_WORKERS": "10",
            "QUERY_SHAPES_FILE": self.config.get("QUERY_SHAPES_FILE") or "",
            "TRACE_DIR": self.trace_dir,
        })
        env.update(self.overrides)
        return env

    def start(self):
        self.rabbit_manager.create_vhost(self.vhost)
        user = urlparse(self.amqp_uri).username
        self.rabbit_manager.set_vhost_permissions(self.vhost, user, ".*", ".*", ".*")
        topology.prepare_broker(self.rabbit_manager, self.vhost)  # dead-lettering, as deployments have it
        if self.broker_users:
            self._create_broker_users()
        for name in SERVICES:
            self.start_service(name)
        wait_until(self.healthy, timeout=60, interval=0.5, message="the platform to be healthy")
        return self

    def broker_uri(self, user):
        """The AMQP URI of one broker user of this platform (BROKER_USERS)."""
        parsed = urlparse(self.amqp_uri)
        netloc = f"{self.vhost}-{user}:{self.broker_passwords[user]}@{parsed.hostname}:{parsed.port}"
        return parsed._replace(netloc=netloc).geturl()

    def _create_broker_users(self):
        from services.common.ops import broker_users
        for user in broker_users.USERS:
            password = self.broker_passwords[user] = uuid.uuid4().hex
            name = f"{self.vhost}-{user}"
            self.rabbit_manager._put("users", name, json={"password": password, "tags": ""})
            configure, write, read, (topic_write, topic_read) = broker_users.permissions(user)
            self.rabbit_manager._put("permissions", self.vhost, name,
                                     json={"configure": configure, "write": write, "read": read})
            self.rabbit_manager._put("topic-permissions", self.vhost, name,
                                     json={"exchange": broker_users.RPC_EXCHANGE, "write": topic_write,
                                           "read": topic_read})

    def start_service(self, name, replica=0, **env):
        """Start one service; `env` overrides config values for it (`MATCH_EXPIRY_S="2"`).
        `replica` > 0: one more process of that service (`matching#1`), as a second pod would be."""
        if self.broker_users:
            env = dict({"AMQP_URI": self.broker_uri(name)}, **env)
        key = f"{name}#{replica}" if replica else name
        # Its Prometheus metrics (services/common/metrics.py) on a port of its own, for the canary.
        self.metrics_ports[key] = free_port()
        env = dict({"METRICS_PORT": str(self.metrics_ports[key]), "METRICS_HOST": "127.0.0.1"}, **env)
        log = open(os.path.join(self.log_dir, f"{key}.log"), "ab")
        self.processes[key] = start_process(
            [sys.executable, "-m", "nameko", "run", "--config", os.path.join(ROOT, "config.yaml"),
             f"services.{name}.service"],
            # Each with its own store user, as deploy/k8s and `./dev up` run them.
            cwd=ROOT, env=store_users.service_env(name, dict(self.env(), **env)), stdout=log,
            stderr=native_subprocess.STDOUT,
            start_new_session=True)
        log.close()

    def stop_service(self, name):
        self._terminate([name])

    def _terminate(self, names):
        # Signal every process first, then wait: they shut down in parallel.
        processes = [self.processes.pop(name) for name in names if name in self.processes]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        # A deadline of our own: under eventlet, Popen.wait(timeout) raises eventlet's own
        # TimeoutExpired, which `except subprocess.TimeoutExpired` does not catch.
        deadline = time.monotonic() + 15
        for process in processes:
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def healthy(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}; see {self.log_dir}/{name}.log")
        try:
            return requests.get(f"{self.url}/healthz", timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or slow on a loaded machine
            return False

    def stop(self):
        self._terminate(list(self.processes))
        for user in self.broker_passwords:
            self.rabbit_manager._delete("users", f"{self.vhost}-{user}")
        try:
            self.rabbit_manager.delete_vhost(self.vhost)
        finally:
            drop_test_data(self.config)

    def logs(self):
        text = ""
        for name in sorted(os.listdir(self.log_dir)):  # every service's, replicas' too
            if name.endswith(".log"):
                with open(os.path.join(self.log_dir, name), encoding="utf-8", errors="replace") as handle:
                    text += handle.read()
        return text


class Client:
    """A person using the API: signs up, signs in, then calls with their token."""

    def __init__(self, platform):
        self.url = platform.url
        self.token = None
        self.account = None

    def call(self, method, path, body=None, headers=None, **params):
        headers = dict({"Authorization": f"Bearer {self.token}"} if self.token else {}, **(headers or {}))
        response = requests.request(method, f"{self.url}{path}", json=body, params=params or None,
                                    headers=headers, timeout=20)
        return response

    def sign_up(self, handle, role, password="correct horse battery staple", email=None):
        body = {"handle": handle, "password": password, "role": role}
        if email:
            body["email"] = email
        response = self.call("POST", "/api/accounts", body)
        assert response.status_code == 201, response.text
        self.account = response.json()
        self.password = password
        return self.sign_in_again()

    def sign_in_again(self):
        """A new session (e.g. after an operator changed this person's role)."""
        response = self.call("POST", "/api/sessions", {"handle": self.account["handle"], "password": self.password})
        assert response.status_code == 200, response.text
        self.token = response.json()["token"]
        return self
