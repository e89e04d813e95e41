"""The code's layers, measured from its imports (every import, a function's own included): no import
circle anywhere in services/ or bench/, and services/common imports only down its layers.

services/common, from the bottom:
  0  config, errors, taxonomy, catalog, ids, outage,  facts and errors everything may use
     detention, refs, tracecontext
  1  store/, trust/                                   the stores; what the bus trusts (neither imports the other)
  2  schemas                                          the boundaries' schemas (trusted viewers need trust)
  3  bus/                                             the event contract, consumers, RPC, topology
  4  flags, metrics, tracing, observed                reports to the moderators; what the ops teams see
  5  ops/                                             tooling: provisioning, rotation, autoscaling, probes
A new module of common goes in the lowest layer whose imports it needs; a test here fails when an
import runs back up, so the layers stay a picture a newcomer can trust.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAYERS = {"config": 0, "errors": 0, "taxonomy": 0, "catalog": 0, "ids": 0, "outage": 0, "detention": 0, "refs": 0, "tracecontext": 0,
          "store": 1, "trust": 1, "schemas": 2, "bus": 3, "flags": 4, "metrics": 4, "tracing": 4, "observed": 4, "ops": 5}
PEERS_APART = {("store", "trust"), ("trust", "store")}


def module_of(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources(*folders):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "tests" not in path.relative_to(ROOT).parts:
                yield path


def imports_of(path, known):
    """The project's modules `path` imports (`known`: every module name of the project)."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from package import module` imports the module; `from module import name`, the module.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def graph(*folders):
    paths = list(sources(*folders))
    known = {module_of(path) for path in paths}
    return {module_of(path): imports_of(path, known) for path in paths}


def circles(edges):
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer_of(module):
    part = module.split(".")[2] if module.count(".") >= 2 else ""
    return part, LAYERS.get(part)


def test_no_import_circle_in_services_or_bench():
    edges = graph("services", "bench")
    assert len(edges) > 100  # it did read the code
    assert circles(edges) == []


def test_the_common_layer_imports_only_down_its_layers():
    edges = {module: targets for module, targets in graph("services").items()
             if module.startswith("services.common.")}
    assert len(edges) > 30
    unplaced = sorted(module for module in edges if layer_of(module)[1] is None and module != "services.common")
    assert unplaced == [], "place each module of services/common in LAYERS (this file's docstring)"
    up = []
    for module, targets in edges.items():
        part, layer = layer_of(module)
        for target in targets:
            if not target.startswith("services.common."):
                if target.startswith("services."):
                    up.append(f"{module} -> {target}: common imports no service")
                continue
            target_part, target_layer = layer_of(target)
            if target_layer > layer or (part, target_part) in PEERS_APART:
                up.append(f"{module} -> {target}")
    assert up == []


def test_the_checks_see_a_circle_and_an_import_back_up():
    """The two checks above fail on what they are for (a check that cannot fail holds nothing)."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("services.common.store.mongo") == ("store", 1)
    assert layer_of("services.common.ops.probe")[1] > layer_of("services.common.bus.events")[1]
