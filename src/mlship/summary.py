"""A short, human-readable table of ``metrics.json`` (printed by ``make run``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HEADLINE = ("roc_auc", "pr_auc", "f1", "accuracy", "log_loss", "brier")


def render_metrics(metrics: dict[str, Any]) -> str:
    overall = metrics["overall"]
    lines = [f"{'metric':<12}{'overall':>10}", f"{'-' * 22}"]
    lines += [f"{name:<12}{overall[name]:>10.4f}" for name in HEADLINE if name in overall]
    for attribute, groups in metrics.get("slices", {}).items():
        aucs = {group: values["roc_auc"] for group, values in groups.items() if "roc_auc" in values}
        if aucs:
            gap = max(aucs.values()) - min(aucs.values())
            worst = min(aucs, key=aucs.__getitem__)
            lines.append(f"roc_auc gap across {attribute}: {gap:.4f} (lowest: {worst} {aucs[worst]:.4f})")
    lines.append(f"test rows: {overall['n']}, positive rate: {overall['positive_rate']:.3f}")
    return "\n".join(lines)


def render(path: Path) -> str:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist yet: run `make repro` first") from None
    return render_metrics(metrics)
