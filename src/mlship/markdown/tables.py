"""Markdown tables and the numbers in them, as the PR report and the monitor report print them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def escape(text: str) -> str:
    """A cell's text: a pipe would end the cell, a newline the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> list[str]:
    """A GitHub Markdown table; ``align`` has one letter per column, ``r`` right-aligns it."""
    align = align or "l" * len(header)
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without an exponent for the sizes a report shows."""
    if value == 0 or not abs(value) < float("inf"):
        return f"{value:g}"
    return f"{value:,.{max(digits - 1 - int(f'{abs(value):e}'.split('e')[1]), 0)}f}"
