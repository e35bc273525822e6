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
    FALSE_TEXT,
    TRUE_TEXT,
    CategoricalColumn,
    NumericColumn,
    Schema,
    read_source,
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


def exact_numbers(raw: pd.Series) -> pd.Series:
    """Text → float64, ``NaN`` where a value is missing or not a number.

    pandas' fast parser finds what parses, but is not correctly rounded (off by up to ~1e-12 relative);
    the parsable values are read again with Python's parser so a validated number is the one in the file.
    """
    parsed = pd.to_numeric(raw, errors="coerce").astype("float64")
    ok = parsed.notna()
    parsed[ok] = raw[ok].astype(str).str.strip().astype("float64")
    return parsed


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_boolean(raw: pd.Series, column: NumericColumn) -> tuple[pd.Series, list[Violation]]:
    violations: list[Violation] = []
    missing = raw.isna()
    text = raw.astype(str).str.strip().str.lower()
    truthy, falsy = text.isin(TRUE_TEXT), text.isin(FALSE_TEXT)
    unparsable = ~missing & ~truthy & ~falsy
    if unparsable.any():
        violations.append(
            Violation(column.name, "not_boolean", int(unparsable.sum()), _examples(raw[unparsable]))
        )
    if not column.nullable and missing.any():
        violations.append(Violation(column.name, "missing_value", int(missing.sum())))
    typed = pd.Series(np.where(truthy, 1.0, np.where(falsy, 0.0, np.nan)), index=raw.index)
    return typed.astype("float64" if column.nullable else "int64") if not violations else typed, violations


def _check_numeric(raw: pd.Series, column: NumericColumn) -> tuple[pd.Series, list[Violation]]:
    if column.kind == "boolean":
        return _check_boolean(raw, column)
    violations: list[Violation] = []
    missing = raw.isna()
    parsed = exact_numbers(raw)
    unparsable = (parsed.isna() & ~missing) | ~np.isfinite(parsed.fillna(0.0))
    if unparsable.any():
        violations.append(
            Violation(column.name, "not_numeric", int(unparsable.sum()), _examples(raw[unparsable]))
        )
        parsed = parsed.where(~unparsable)
    if column.kind == "integer":
        fractional = parsed.notna() & (np.floor(parsed) != parsed)
        if fractional.any():
            violations.append(
                Violation(column.name, "not_integer", int(fractional.sum()), _examples(raw[fractional]))
            )
    if not column.nullable and missing.any():
        violations.append(Violation(column.name, "missing_value", int(missing.sum())))
    low = -np.inf if column.minimum is None else column.minimum
    high = np.inf if column.maximum is None else column.maximum
    bad = (parsed < low) | (parsed > high)
    if bad.any():
        shown = f"[{_bound(low) if column.minimum is not None else '-inf'}, "
        shown += f"{_bound(high) if column.maximum is not None else 'inf'}]"
        violations.append(Violation(column.name, f"out_of_range{shown}", int(bad.sum()), _examples(raw[bad])))
    whole = column.kind == "integer" and not column.nullable
    typed = parsed.astype("int64" if whole else "float64") if not violations else parsed
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


def _check_target(raw: pd.Series, schema: Schema) -> tuple[pd.Series, list[Violation]]:
    """Classifiers: every label known, encoded as its class index. Regression: a finite number."""
    target = schema.target
    missing = raw.isna()
    if not target.is_classifier:
        values = exact_numbers(raw)
        bad = values.isna() | ~np.isfinite(values.fillna(0.0))
        if bad.any():
            examples = _examples(raw[bad].fillna("<missing>"))
            return values, [Violation(target.name, "not_numeric_target", int(bad.sum()), examples)]
        return values.astype("float64"), []
    classes = target.classes
    bad = missing | ~raw.isin(classes)
    if bad.any():
        examples = _examples(raw[bad].fillna("<missing>"))
        return raw, [Violation(target.name, "unknown_label", int(bad.sum()), examples)]
    index = {label: position for position, label in enumerate(classes)}
    return raw.map(index).astype("int64"), []


def validate(raw: pd.DataFrame, schema: Schema) -> ValidationResult:
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
    if schema.target.name in raw.columns:
        labels, found = _check_target(raw[schema.target.name], schema)
        typed[schema.target.name] = labels
        violations.extend(found)
    if violations:
        return ValidationResult(raw, tuple(violations), rows)
    frame = pd.DataFrame({name: typed[name] for name in expected}).reset_index(drop=True)
    return ValidationResult(frame, (), rows)


def run(raw_path: Path, output: Path, report_path: Path, schema: Schema) -> ValidationResult:
    """CLI entry: validate the raw file, always write the report, write the frame only when valid."""
    result = validate(read_source(raw_path, schema), schema)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(result.report(), indent=2) + "\n", encoding="utf-8")
    if not result.ok:
        raise DataValidationError(result)
    write_processed(result.frame, output)
    return result
