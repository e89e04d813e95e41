"""Each service module runs under `nameko run` as deploy/k8s, compose and `./dev up` start it:
exactly one service class in it (a mixin with entrypoints imported by name would be taken for a
second service, without a name: the platform would not start)."""
import pytest
from nameko.cli.run import import_service

from services.common import catalog

SERVICES = catalog.ALL


@pytest.mark.parametrize("name", SERVICES)
def test_nameko_run_finds_one_named_service_in_each_module(name):
    found = import_service(f"services.{name}.service")
    assert len(found) == 1 and found[0].name
