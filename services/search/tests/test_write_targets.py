"""indexing.write_targets: "no rebuild" is remembered for a while; a rebuild under way never is."""
from types import SimpleNamespace

from elasticsearch import NotFoundError

from services.search import indexing


class Aliases:
    """Stands in for `es.indices.get_alias`, counting the calls."""

    def __init__(self):
        self.rebuilding = None
        self.calls = 0

    def get_alias(self, name):
        self.calls += 1
        if self.rebuilding is None:
            raise NotFoundError("no such alias", SimpleNamespace(status=404), {})
        return SimpleNamespace(body={self.rebuilding: {}})


def test_no_rebuild_is_remembered_then_asked_again(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(indexing.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(indexing, "_no_rebuild_until", {})
    aliases = Aliases()
    es = SimpleNamespace(indices=aliases)

    assert indexing.write_targets(es, "p-requests") == ["p-requests"]
    assert indexing.write_targets(es, "p-requests") == ["p-requests"]
    assert aliases.calls == 1  # remembered

    aliases.rebuilding = "p-requests-v2"  # a rebuild starts; it waits NO_REBUILD_TTL_S before exporting
    clock[0] += indexing.NO_REBUILD_TTL_S + 0.1
    assert indexing.write_targets(es, "p-requests") == ["p-requests-v2", "p-requests"]
    assert indexing.write_targets(es, "p-requests") == ["p-requests-v2", "p-requests"]
    assert aliases.calls == 3  # while it runs: asked on every write, never remembered
