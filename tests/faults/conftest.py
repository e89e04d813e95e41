from tests.e2e.conftest import person, platform  # noqa: F401 - the same platform fixtures as e2e
