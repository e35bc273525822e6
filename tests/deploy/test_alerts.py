"""The service alerts (deploy/k8s/base/alerts.yaml) are valid Prometheus rules, behave as their unit tests
(tests/deploy/alerts.test.yaml) say, and ship in every overlay as the ConfigMap a cluster's Prometheus mounts.

promtool is Debian's ``prometheus`` package (.ci/run installs it); without it these tests fail, naming it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/k8s/base/alerts.yaml"
UNIT_TESTS = Path(__file__).with_name("alerts.test.yaml")
#: The names BentoML 1.4 gives its HTTP metrics (bentoml/_internal/server/http/instruments.py, namespace
#: ``bentoml_service`` for a service) and the labels the rules select on.
BENTOML_METRICS = ("bentoml_service_request_total", "bentoml_service_request_duration_seconds_bucket")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: `apt-get install prometheus` (as .ci/run does)")
    return found


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, check=False, cwd=ROOT)


def test_the_rules_file_is_valid(promtool: str) -> None:
    result = _promtool(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_each_alert_fires_when_it_should_and_only_then(promtool: str) -> None:
    # given series like BentoML's (healthy, 5xx, slow, 400s, silent, missing) / then each alert's tests pass
    result = _promtool(promtool, "test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    # and every alert of the rules file has a test in which it fires
    alerts = {
        rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    }
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fired = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]}
    assert (
        alerts
        == fired
        == {
            "ModelServiceErrorRate",
            "ModelServiceLatencyP99",
            "ModelServiceRefusalRate",
            "ModelServiceNoTraffic",
            "ModelServiceMetricsMissing",
        }
    )


def test_the_checker_rejects_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    # given the rules with one expression broken / then promtool refuses them (the check can fail)
    broken = tmp_path / "alerts.yaml"
    broken.write_text(RULES.read_text().replace("> 0.01", "> > 0.01"), encoding="utf-8")
    result = _promtool(promtool, "check", "rules", str(broken))
    assert result.returncode != 0


def test_the_rules_use_bentoml_s_metric_names_and_ship_as_a_configmap(repo_root: Path) -> None:
    text = RULES.read_text()
    assert all(name in text for name in BENTOML_METRICS)
    # then each overlay renders the ConfigMap holding exactly the rules file
    for environment in ("staging", "production"):
        out = subprocess.run(
            ["kubectl", "kustomize", str(repo_root / "deploy/k8s/overlays" / environment)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (config,) = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "ConfigMap"]
        assert config["metadata"]["name"] == "model-service-alerts"
        assert config["metadata"]["namespace"] == f"mlship-{environment}"
        assert config["data"]["alerts.yaml"] == text
