"""A short, human-readable table of ``metrics.json`` (printed by ``make run``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlship.tasks import Task, headline_metric, higher_is_better, metric_names


def render_metrics(metrics: dict[str, Any], task: Task) -> str:
    overall = metrics["overall"]
    lines = [f"{task} task", f"{'metric':<18}{'overall':>10}", f"{'-' * 28}"]
    lines += [f"{name:<18}{overall[name]:>10.4f}" for name in metric_names(task) if name in overall]
    headline = headline_metric(task)
    for attribute, groups in metrics.get("slices", {}).items():
        scores = {group: values[headline] for group, values in groups.items() if headline in values}
        if scores:
            gap = max(scores.values()) - min(scores.values())
            pick = min if higher_is_better(headline) else max
            worst = pick(scores, key=scores.__getitem__)
            lines.append(f"{headline} gap across {attribute}: {gap:.4f} (worst: {worst} {scores[worst]:.4f})")
    lines.append(f"test rows: {overall['n']}")
    return "\n".join(lines)


def render(path: Path, task: Task) -> str:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist yet: run `make repro` first") from None
    return render_metrics(metrics, task)
