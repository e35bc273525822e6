"""PNG versions of the charts for the workflow artifact (matplotlib, offline, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlship.markdown.charts import Confusion
from mlship.report.plots import PlotSet, Points

BASE_COLOUR, PR_COLOUR = "#9e9e9e", "#d62728"


def _pyplot() -> Any:  # matplotlib ships no type information
    import matplotlib  # noqa: PLC0415  # heavy: imported only when charts are drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _curve(
    path: Path, title: str, axes: tuple[str, str], *, base: Points | None, pr: Points, scatter: bool
) -> Path:
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    for label, points, colour in (("base", base, BASE_COLOUR), ("PR", pr, PR_COLOUR)):
        if not points:
            continue
        xs, ys = zip(*sorted(points), strict=True)
        if scatter:
            ax.scatter(xs, ys, s=4, alpha=0.4, color=colour, label=label)
        else:
            ax.plot(xs, ys, color=colour, label=label, linewidth=1.5)
    ax.set(title=title, xlabel=axes[0], ylabel=axes[1])
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    return path


def _confusion(path: Path, matrix: Confusion, title: str) -> Path:
    plt = _pyplot()
    labels = sorted({label for pair in matrix for label in pair})[:30]
    counts = [[matrix[(a, p)] for p in labels] for a in labels]
    size = max(4.0, 0.5 * len(labels) + 2)
    figure, ax = plt.subplots(figsize=(size, size), dpi=100)
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            ax.text(j, i, f"{count:,}", ha="center", va="center", fontsize=8)
    ax.set(title=title, xlabel="predicted", ylabel="actual")
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    return path


def draw(base: PlotSet | None, pr: PlotSet, out_dir: Path) -> list[Path]:
    """Every chart the PR's plot files allow, base vs PR; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.png"):
        stale.unlink()
    written: list[Path] = []
    curves: Sequence[tuple[str, str, tuple[str, str], bool]] = (
        ("roc", "ROC", ("false positive rate", "true positive rate"), False),
        ("precision_recall", "Precision-recall", ("recall", "precision"), False),
        ("predicted_vs_actual", "Predicted vs actual", ("actual", "predicted"), True),
        ("residuals", "Residuals", ("predicted", "residual"), True),
    )
    for name, title, axes, scatter in curves:
        points = getattr(pr, name)
        if points:
            base_points = getattr(base, name) if base else None
            written.append(
                _curve(out_dir / f"{name}.png", title, axes, base=base_points, pr=points, scatter=scatter)
            )
    if pr.confusion is not None:
        written.append(_confusion(out_dir / "confusion.png", pr.confusion, "Confusion matrix (PR)"))
    if base is not None and base.confusion is not None:
        written.append(_confusion(out_dir / "confusion_base.png", base.confusion, "Confusion matrix (base)"))
    return written
