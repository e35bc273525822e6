"""The compact, tool-independent record of a check suite's outcome (what the gates and the PR report read).

One JSON file per suite under ``reports/checks/``: each check with its status, and each condition with its
text, its verdict and the value that decided it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SUITES = ("data_integrity", "train_test", "model_evaluation")

Category = Literal["PASS", "WARN", "FAIL", "ERROR"]
Status = Literal["passed", "failed", "error", "not_judged"]


@dataclass(frozen=True)
class ConditionOutcome:
    name: str
    category: Category
    details: str


@dataclass(frozen=True)
class Measure:
    """A number a check's condition compares with its threshold from ``params.yaml``."""

    quantity: str
    value: float
    threshold: float
    limit: str  # how value must compare with threshold: "<=", "<", ">=", ">"

    @property
    def headroom(self) -> float:
        """How far inside its limit the value is, relative to the threshold (negative: outside)."""
        scale = max(abs(self.threshold), 1e-9)
        inside = self.threshold - self.value if self.limit in ("<=", "<") else self.value - self.threshold
        return inside / scale

    def text(self) -> str:
        return f"{self.quantity} {_number(self.value)} (limit {self.limit} {_number(self.threshold)})"


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:.4g}"


@dataclass(frozen=True)
class CheckOutcome:
    check: str
    status: Status
    conditions: tuple[ConditionOutcome, ...] = ()
    error: str | None = None
    measures: tuple[Measure, ...] = ()  # what the conditions compared, tightest first

    @property
    def tightest(self) -> Measure | None:
        """The measure nearest its limit (the one that would fail first)."""
        return min(self.measures, key=lambda m: m.headroom) if self.measures else None

    @property
    def failures(self) -> list[str]:
        """One line per failed condition (or the error), naming what decided it."""
        if self.status == "not_judged":
            return []
        if self.status == "error":
            return [f"could not run: {self.error}"]
        return [f"{c.name}: {c.details}" for c in self.conditions if c.category != "PASS"]


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    checks: tuple[CheckOutcome, ...]
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(check.status in {"passed", "not_judged"} for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The record without the wall-clock time, so the same inputs give the same bytes."""
        record = {"suite": self.suite, "passed": self.passed, **asdict(self)}
        del record["seconds"]
        return record


def write(outcome: SuiteOutcome, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outcome.to_json(), indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> SuiteOutcome:
    raw = json.loads(path.read_text(encoding="utf-8"))
    checks = tuple(
        CheckOutcome(
            check=c["check"],
            status=c["status"],
            conditions=tuple(ConditionOutcome(**condition) for condition in c["conditions"]),
            error=c.get("error"),
            measures=tuple(Measure(**m) for m in c.get("measures", [])),
        )
        for c in raw["checks"]
    )
    return SuiteOutcome(raw["suite"], checks, float(raw.get("seconds", 0.0)), dict(raw.get("rows", {})))
