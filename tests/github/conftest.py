"""The fake GitHub server (see ``fake.py``: a real HTTP server imitating GitHub's REST protocol, because
GitHub cannot be reached from the test machine) and a monitor report like ``mlship monitor`` writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.github import fake


@pytest.fixture
def github() -> Iterator[fake.FakeGitHub]:
    # page_size 2: the client must follow GitHub's Link headers to see every issue and comment
    with fake.serve(page_size=2) as server:
        yield server


ReportWriter = Callable[..., Path]


@pytest.fixture
def monitor_report(tmp_path: Path) -> ReportWriter:
    """Writes reports/monitor.{json,md} in the contract's shape (hand-made: ``mlship monitor`` is built
    on another branch; the keys are those of the contract both sides follow)."""

    def write(
        *,
        healthy: bool,
        judged: bool = True,
        retrain: bool = False,
        drifted: tuple[str, ...] = (),
        note: str = "",
    ) -> Path:
        alerts: list[dict[str, Any]] = [
            {"kind": "drift", "detail": f"{name} drifted", "feature": name} for name in drifted
        ]
        document = {
            "environment": "production",
            "source": "/srv/capture",
            "healthy": healthy,
            "judged": judged,
            "alerts": alerts,
            "drift": {"features": {n: {"score": 0.4, "threshold": 0.2, "drifted": True} for n in drifted}},
            "retrain": retrain,
            "records": 1200,
        }
        reports = tmp_path / "reports"
        reports.mkdir(exist_ok=True)
        (reports / "monitor.json").write_text(json.dumps(document), encoding="utf-8")
        verdict = (
            "NOT JUDGED" if not judged else "✅ Healthy" if healthy else "❌ Alert: " + ", ".join(drifted)
        )
        (reports / "monitor.md").write_text(
            f"## mlship monitor: production\n\n{verdict}\n{note}\n", encoding="utf-8"
        )
        return reports / "monitor.json"

    return write
