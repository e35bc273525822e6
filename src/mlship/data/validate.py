"""Stage ``validate``: check the raw data against the schema and write a typed, canonical frame.

Any violation fails the stage with a report naming the column, the rule and the number of bad rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mlship.data.schema import (
    CENSUS,
    CategoricalColumn,
    NumericColumn,
    Schema,
    read_source_csv,
    write_processed,
)

_EXAMPLES = 3


@dataclass(frozen=True)
class Violation:
    """One broken rule on one column."""

    column: str
    rule: str
    count: int
    examples: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        shown = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"{self.column}: {self.rule}: {self.count} row(s){shown}"


@dataclass(frozen=True)
class ValidationResult:
    frame: pd.DataFrame
    violations: tuple[Violation, ...]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def report(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "violations": [asdict(v) for v in self.violations],
        }


class DataValidationError(RuntimeError):
    """The data broke the schema; the message lists every violation."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        lines = [f"data validation failed: {len(result.violations)} violation(s) in {result.rows} rows"]
        lines += [f"  {violation}" for violation in result.violations]
        super().__init__("\n".join(lines))


def _examples(values: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in values.drop_duplicates().head(_EXAMPLES))


def _check_numeric(raw: pd.Series, column: NumericColumn) -> tuple[pd.Series, list[Violation]]:
    violations: list[Violation] = []
    missing = raw.isna()
    parsed = pd.to_numeric(raw, errors="coerce")
    unparsable = parsed.isna() & ~missing
    if unparsable.any():
        violations.append(
            Violation(column.name, "not_numeric", int(unparsable.sum()), _examples(raw[unparsable]))
        )
    fractional = parsed.notna() & (np.floor(parsed) != parsed)
    if fractional.any():
        violations.append(
            Violation(column.name, "not_integer", int(fractional.sum()), _examples(raw[fractional]))
        )
    if not column.nullable and missing.any():
        violations.append(Violation(column.name, "missing_value", int(missing.sum())))
    below = parsed < column.minimum
    above = parsed > column.maximum
    if below.any() or above.any():
        bad = below | above
        violations.append(
            Violation(
                column.name,
                f"out_of_range[{column.minimum}, {column.maximum}]",
                int(bad.sum()),
                _examples(raw[bad]),
            )
        )
    typed = parsed.astype("float64" if column.nullable else "int64") if not violations else parsed
    return typed, violations


def _check_categorical(raw: pd.Series, column: CategoricalColumn) -> tuple[pd.Series, list[Violation]]:
    violations: list[Violation] = []
    missing = raw.isna()
    unknown = ~missing & ~raw.isin(column.categories)
    if unknown.any():
        violations.append(
            Violation(column.name, "unknown_category", int(unknown.sum()), _examples(raw[unknown]))
        )
    if not column.nullable and missing.any():
        violations.append(Violation(column.name, "missing_value", int(missing.sum())))
    return raw.astype(object), violations


def validate(raw: pd.DataFrame, schema: Schema = CENSUS) -> ValidationResult:
    """Check every column of ``raw`` (strings, canonical names) against ``schema``."""
    violations: list[Violation] = []
    rows = len(raw)
    expected = schema.columns
    for name in expected:
        if name not in raw.columns:
            violations.append(Violation(name, "missing_column", rows))
    for name in raw.columns:
        if name not in expected:
            violations.append(Violation(str(name), "unexpected_column", rows))
    typed: dict[str, pd.Series] = {}
    for column in schema.features:
        if column.name not in raw.columns:
            continue
        series = raw[column.name]
        checked, found = (
            _check_numeric(series, column)
            if isinstance(column, NumericColumn)
            else _check_categorical(series, column)
        )
        typed[column.name] = checked
        violations.extend(found)
    target = schema.target
    if target.name in raw.columns:
        labels = raw[target.name]
        bad = ~labels.isin([target.positive, target.negative])
        if bad.any():
            violations.append(
                Violation(
                    target.name, "unknown_label", int(bad.sum()), _examples(labels[bad].fillna("<missing>"))
                )
            )
        typed[target.name] = (labels == target.positive).astype("int64")
    if violations:
        return ValidationResult(raw, tuple(violations), rows)
    frame = pd.DataFrame({name: typed[name] for name in expected}).reset_index(drop=True)
    return ValidationResult(frame, (), rows)


def run(raw_path: Path, output: Path, report_path: Path, schema: Schema = CENSUS) -> ValidationResult:
    """CLI entry: validate the raw file, always write the report, write the frame only when valid."""
    result = validate(read_source_csv(raw_path, schema), schema)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(result.report(), indent=2) + "\n", encoding="utf-8")
    if not result.ok:
        raise DataValidationError(result)
    write_processed(result.frame, output)
    return result
