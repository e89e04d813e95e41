"""The alert rules (deploy/prometheus/alerts.yml): valid, each firing on what should fire it and
silent on a healthy twin (`promtool test rules`), and naming only metrics the services export."""
import re
import subprocess
from pathlib import Path

import yaml

from services.common import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"


def promtool(*args):
    return subprocess.run(["promtool", *args], cwd=RULES, capture_output=True, text=True, timeout=120)


def test_the_rules_are_valid_and_their_unit_tests_pass():
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_and_names_only_metrics_that_exist():
    rules = [rule for group in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"] for rule in group["rules"]]
    tested = {case["alertname"] for test in yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
              for case in test["alert_rule_test"]}
    assert {rule["alert"] for rule in rules} == tested
    exported = ({family.name for family in metrics.REGISTRY.collect()}
                | {family.name for family in metrics.StoreCommands("any").collect()})
    for rule in rules:
        # The broker's and the stores' metrics are checked against their exporters, live
        # (tests/test_monitoring_stack.py).
        for name in re.findall(r"\b(allies_[a-z_]+)\b", rule["expr"]):
            base = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert name in exported or base in exported, f"{rule['alert']} names {name}, which no service exports"
        assert rule["annotations"]["runbook"].startswith("docs/operations.md#")
        anchor = rule["annotations"]["runbook"].split("#")[1]
        assert f"### {rule['alert']}" in (ROOT / "docs" / "operations.md").read_text(), anchor


def test_every_query_of_the_dashboard_and_of_dev_status_is_valid_promql(tmp_path):
    """Each one as a recording rule, which `promtool check rules` parses: a query Prometheus would
    refuse (a selector on a function's result, say) fails here, not on an operator's screen."""
    from services.common.ops import monitoring, status
    exprs = [target["expr"] for panel in monitoring.dashboard()["panels"] for target in panel.get("targets", [])]
    exprs += list(status.SERVICE_QUERIES.values())
    exprs += [query for _, up, p99, figure, _ in status.STORE_QUERIES for query in (up, p99, figure) if query]
    rules = {"groups": [{"name": "queries", "rules": [{"record": f"allies:query_{place}", "expr": expr}
                                                      for place, expr in enumerate(exprs)]}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    checked = subprocess.run(["promtool", "check", "rules", str(tmp_path / "queries.yml")],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
