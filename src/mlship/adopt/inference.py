"""Draft a :class:`~mlship.data.schema.Schema` from a data file's values (all text, missing as ``NaN``).

Pure functions; the rules, in the order they are tried for a feature column:

1. every value missing: left out (listed under ``reader.drop``: nothing to learn from or check);
2. **boolean** when every value, trimmed and lower-cased, is true/false-like
   (``true/false, t/f, yes/no, y/n, 1/0``: the validator's own sets), so a 0/1 column is a boolean;
3. **integer** when every value parses as a finite number with no fractional part (``"3"``, ``"3.0"``)
   and at most 2**53 in magnitude (beyond, a number is not exact as a float);
4. **float** when every value parses as a finite number;
5. **categorical** otherwise: the categories are the distinct values as they appear in the file, sorted
   as strings. A text column with more than :data:`MAX_CATEGORIES` distinct values is left out (listed
   under ``reader.drop``): an identifier or free text, not a category (gradient boosting's categorical
   encoding holds at most 255 codes, one kept for missing).

A column left out is printed by ``mlship init``; a sensitive column cannot be left out (refused).

A number is never turned into a category by the inference (a coded number stays a number): change its kind
to ``categorical`` in ``schema.yaml`` if its codes have no order. Numbers get the **observed** minimum and
maximum as their inclusive range, not widened: a value outside what the data has shown is refused by
``validate`` and by the service until a reviewer widens the range. A column is ``nullable`` exactly when it
has a missing value.

The target is never a feature. Its task, unless given: text labels -> ``binary`` (2 distinct values) or
``multiclass`` (3 or more); numbers with a fractional part -> ``regression``; whole numbers -> ``binary``
(2 distinct), ``multiclass`` (3 to :data:`MAX_CLASSES`) or ``regression`` (more). Labels are every distinct
value, sorted as strings. The positive label of a binary target is the true-like one when one label is
true-like and the other false-like (``Yes``/``No``, ``1``/``0``, ``True``/``False``), otherwise the rarer
one (the later in sorted order on a tie).

A sensitive attribute must be categorical or boolean; a whole-number column with at most
:data:`MAX_SENSITIVE_GROUPS` distinct values is declared categorical (its values as text) so it can be
sliced; any other number is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlship.adopt.errors import AdoptError
from mlship.data.schema import FALSE_TEXT, TRUE_TEXT, CategoricalColumn, NumericColumn, Reader, Schema, Target
from mlship.data.validate import exact_numbers
from mlship.tasks import Task

#: Most distinct values a categorical feature may have (HistGradientBoosting: 255 codes, one for missing).
MAX_CATEGORIES = 254
#: Most distinct whole-number target values still taken as classes when ``--task`` is not given.
MAX_CLASSES = 20
#: Most distinct values of a whole-number sensitive column declared categorical.
MAX_SENSITIVE_GROUPS = 20

Feature = NumericColumn | CategoricalColumn


@dataclass(frozen=True)
class Inferred:
    """The drafted schema and the decisions a reviewer should know about, one sentence each."""

    schema: Schema
    notes: tuple[str, ...]


class UnusableColumnError(AdoptError):
    """A feature column the model cannot use (no value at all, or an identifier / free text)."""


def _present(values: pd.Series) -> pd.Series:
    return values[values.notna()].astype(str)


def _numbers(present: pd.Series) -> pd.Series | None:
    """The values as floats when every one is a finite number, else ``None``."""
    parsed = exact_numbers(present)  # the validator's parser: the number as written in the file
    if parsed.isna().any() or not np.isfinite(parsed.to_numpy(dtype=np.float64)).all():
        return None
    return parsed.astype(np.float64)


#: Largest magnitude taken as a whole number: integers beyond it are not exact as floats (nor int64-safe).
MAX_WHOLE = 2**53


def _whole(numbers: pd.Series) -> bool:
    array = numbers.to_numpy(dtype=np.float64)
    return bool((np.floor(array) == array).all() and (np.abs(array) <= MAX_WHOLE).all())


def _true_like(text: str) -> bool | None:
    """``True``/``False`` for true-/false-like text (as the validator reads it), ``None`` otherwise."""
    normalized = text.strip().lower()
    if normalized in TRUE_TEXT:
        return True
    if normalized in FALSE_TEXT:
        return False
    return None


def _sorted_text(present: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(set(present.tolist())))


def infer_feature(name: str, values: pd.Series) -> Feature:
    """One feature column's declaration (rules 1-5 of the module docstring)."""
    present = _present(values)
    nullable = bool(len(present) < len(values))
    if present.empty:
        raise UnusableColumnError(f"column {name!r}: every value is missing")
    distinct = _sorted_text(present)
    if all(_true_like(text) is not None for text in distinct):
        return NumericColumn(name=name, kind="boolean", nullable=nullable)
    numbers = _numbers(present)
    if numbers is not None:
        if _whole(numbers):
            return NumericColumn(
                name=name,
                kind="integer",
                minimum=int(numbers.min()),
                maximum=int(numbers.max()),
                nullable=nullable,
            )
        return NumericColumn(
            name=name,
            kind="float",
            minimum=float(numbers.min()),
            maximum=float(numbers.max()),
            nullable=nullable,
        )
    if len(distinct) > MAX_CATEGORIES:
        raise UnusableColumnError(
            f"column {name!r}: {len(distinct)} distinct text values, more than a categorical feature holds "
            f"({MAX_CATEGORIES}): an identifier or free text"
        )
    return CategoricalColumn(name=name, categories=distinct, nullable=nullable)


def _auto_task(distinct: tuple[str, ...], numbers: pd.Series | None) -> Task:
    if numbers is None:
        return "binary" if len(distinct) == 2 else "multiclass"
    if not _whole(numbers):
        return "regression"
    if len(distinct) == 2:
        return "binary"
    return "multiclass" if len(distinct) <= MAX_CLASSES else "regression"


def _examples(distinct: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(repr(value) for value in distinct[:limit])
    return shown + (", ..." if len(distinct) > limit else "")


def positive_label(counts: pd.Series) -> tuple[str, str]:
    """The positive label of a binary target and the reason it was chosen.

    ``counts``: rows per label (exactly two labels).
    """
    labels = sorted(str(label) for label in counts.index)
    truth = {label: _true_like(label) for label in labels}
    true_like = [label for label in labels if truth[label] is True]
    false_like = [label for label in labels if truth[label] is False]
    if len(true_like) == 1 and len(false_like) == 1:
        return true_like[0], "the true-like label"
    by_rows = {label: int(counts[label]) for label in counts.index.astype(str)}
    rarer = min(labels, key=lambda label: (by_rows[label], -labels.index(label)))
    return rarer, f"the rarer label ({by_rows[rarer]} of {sum(by_rows.values())} rows)"


def infer_target(name: str, values: pd.Series, task: Task | None) -> tuple[Target, str]:
    """The target's declaration and a note on how its task (and positive label) were decided."""
    missing = int(values.isna().sum())
    if missing:
        raise AdoptError(
            f"target {name!r}: {missing} row(s) have no value; every row needs one (drop those rows)"
        )
    present = _present(values)
    distinct = _sorted_text(present)
    if len(distinct) < 2:
        shown = repr(distinct[0]) if distinct else "nothing"
        raise AdoptError(f"target {name!r} is constant ({shown} in every row): there is nothing to predict")
    numbers = _numbers(present)
    chosen = task if task is not None else _auto_task(distinct, numbers)
    how = "given" if task is not None else "inferred"
    if chosen == "regression":
        if numbers is None:
            bad = [value for value in distinct if _numbers(pd.Series([value])) is None]
            raise AdoptError(
                f"target {name!r}: task regression needs numbers, but it holds text such as {_examples(bad)}"
            )
        note = f"task regression ({how}: {len(distinct)} distinct values)"
        return Target(name=name, task="regression"), note
    if chosen == "binary" and len(distinct) != 2:
        raise AdoptError(
            f"target {name!r}: task binary needs exactly 2 labels, "
            f"it has {len(distinct)} ({_examples(distinct)})"
        )
    if chosen == "multiclass" and len(distinct) < 3:
        raise AdoptError(
            f"target {name!r}: task multiclass needs 3 or more labels, it has 2 ({_examples(distinct)}): "
            "use --task binary"
        )
    counts = present.value_counts()
    single = sorted(str(label) for label, n in counts.items() if n < 2)
    if single:
        raise AdoptError(
            f"target {name!r}: label(s) {_examples(single)} occur in one row only; a stratified split needs "
            "at least 2 rows per label (drop those rows, merge the labels, or use --task regression)"
        )
    if chosen == "binary":
        positive, reason = positive_label(counts)
        note = f"task binary ({how}); positive label {positive!r}: {reason}"
        return Target(name=name, task="binary", labels=distinct, positive=positive), note
    note = f"task multiclass ({how}: {len(distinct)} labels)"
    return Target(name=name, task="multiclass", labels=distinct), note


def _sensitive_column(column: Feature, values: pd.Series) -> tuple[Feature, str | None]:
    """The sensitive attribute's declaration: categorical or boolean (a small whole-number code becomes
    categorical); anything else is refused."""
    if isinstance(column, CategoricalColumn) or column.kind == "boolean":
        return column, None
    present = _present(values)
    distinct = _sorted_text(present)
    if column.kind == "integer" and len(distinct) <= MAX_SENSITIVE_GROUPS:
        recoded = CategoricalColumn(name=column.name, categories=distinct, nullable=column.nullable)
        note = f"sensitive {column.name!r}: whole numbers declared categorical ({len(distinct)} groups)"
        return recoded, note
    raise AdoptError(
        f"sensitive column {column.name!r} is a {column.kind} column with {len(distinct)} distinct values: "
        "slices need a categorical or boolean column (bin it into groups in the file first)"
    )


def infer_schema(
    frame: pd.DataFrame, reader: Reader, target: str, sensitive: Sequence[str], task: Task | None
) -> Inferred:
    """The whole draft: the features in file order, the target, the sensitive attributes, the reader."""
    columns = [str(name) for name in frame.columns]
    if target not in columns:
        raise AdoptError(f"target {target!r} is not a column (columns: {', '.join(columns)})")
    wanted = list(dict.fromkeys(sensitive))
    for attribute in wanted:
        if attribute == target:
            raise AdoptError(
                f"sensitive column {attribute!r} is the target; a sensitive attribute is a feature"
            )
        if attribute not in columns:
            raise AdoptError(
                f"sensitive column {attribute!r} is not a column (columns: {', '.join(columns)})"
            )
    if len(columns) < 2:
        raise AdoptError(f"no feature columns: the file holds the target {target!r} only")
    declared, note = infer_target(target, frame[target], task)
    notes = [note]
    features: list[Feature] = []
    dropped: list[str] = []
    for name in columns:
        if name == target:
            continue
        try:
            column = infer_feature(name, frame[name])
        except UnusableColumnError as error:
            if name in wanted:
                raise AdoptError(f"sensitive {error}: it cannot be sliced by") from None
            dropped.append(name)
            notes.append(f"{error}: left out (reader.drop)")
            continue
        if name in wanted:
            column, recoded = _sensitive_column(column, frame[name])
            if recoded:
                notes.append(recoded)
        features.append(column)
    if not features:
        raise AdoptError(f"no usable feature columns: {', '.join(dropped)} cannot be used")
    schema = Schema(
        reader=reader.model_copy(update={"drop": tuple(dropped)}),
        target=declared,
        sensitive=tuple(wanted),
        features=tuple(features),
    )
    return Inferred(schema, tuple(notes))
