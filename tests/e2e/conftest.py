import pytest

from tests.e2e.platform import Client, Platform
from tests.support import operator_command


@pytest.fixture(scope="module")
def platform(request, rabbit_manager, tmp_path_factory):
    """The whole platform, once per test module. A module may set `PLATFORM_OVERRIDES = {...}`
    (config keys, e.g. a short MATCH_EXPIRY_S) for its own platform."""
    amqp_uri = request.config.getoption("RABBIT_AMQP_URI")
    overrides = getattr(request.module, "PLATFORM_OVERRIDES", {})
    running = Platform(rabbit_manager, amqp_uri, str(tmp_path_factory.mktemp("platform-logs")), **overrides)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def person(platform):
    """`person("handle", "volunteer")`: a signed-up, signed-in user of the platform."""
    return lambda handle, role, **kw: Client(platform).sign_up(handle, role, **kw)


@pytest.fixture
def appoint(platform):
    """`appoint(client, "moderator")`: what an operator does with `services.profiles.admin`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    def grant(client, role):
        with ClusterRpcProxy(platform.config, timeout=20) as rpc:
            rpc.profiles.grant_role(operator_command({"handle": client.account["handle"], "role": role},
                                                     platform.config))
        return client

    return grant
