"""``mlship init PATH --target COLUMN [--sensitive COLUMN]... [--task TASK]``: the thin shell.

Everything is computed and verified in memory first (the drafted schema reads back through the schema
loader, the edited ``params.yaml`` through the configuration loader and fits the schema); only then are
the three files written, each atomically and only if it changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlship.adopt.defaults import params_updates, profile
from mlship.adopt.errors import AdoptError
from mlship.adopt.facts import FACTS_PATH, dataset_facts, render_facts
from mlship.adopt.inference import infer_schema
from mlship.adopt.reading import read_data
from mlship.adopt.writing import render_schema, update_params, write_if_changed
from mlship.config import Params, load_params, mismatches, parse_params
from mlship.data.ingest import sha256_of
from mlship.data.schema import Schema
from mlship.tasks import Task, metric_names


@dataclass(frozen=True)
class InitResult:
    """What ``run`` decided and wrote."""

    schema: Schema
    params: Params
    notes: tuple[str, ...]
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]

    def render(self) -> str:
        """The summary printed by ``mlship init``: what was decided, what changed, what to review next."""
        schema, params = self.schema, self.params
        kinds: dict[str, list[str]] = {}
        for column in schema.features:
            kinds.setdefault(column.kind, []).append(column.name)
        nullable = [column.name for column in schema.features if column.nullable]
        lines = [f"mlship init: {schema.target.name!r}, {'; '.join(self.notes)}"]
        lines += [f"  {kind}: {', '.join(names)}" for kind, names in kinds.items()]
        lines.append(f"  nullable: {', '.join(nullable) or 'none'}")
        lines.append(f"  sensitive: {', '.join(schema.sensitive) or 'none'}")
        lines += [f"wrote {path}" for path in self.written]
        lines += [f"unchanged {path}" for path in self.unchanged]
        gates = params.gates
        limits = [f"{m} >= {v}" for m, v in gates.floors.items()]
        limits += [f"{m} <= {v}" for m, v in gates.ceilings.items()]
        lines += [
            "",
            "Review next (docs/forking.md):",
            f"  1. {params.data.schema_path}: kinds, ranges (observed min/max), categories, nullability, "
            "descriptions",
            f"  2. params.yaml gates: {', '.join(limits)}; slice gap on {gates.slice_gap.metric} "
            f"per sensitive attribute ({', '.join(gates.slice_gap.max_gap) or 'none declared'})",
            "  3. the sensitive attributes (--sensitive) and params.yaml model.monotonic (reset to none)",
            "  4. git diff, then: make run && make test; then make gates (your model's verdicts) "
            "and make serve",
        ]
        return "\n".join(lines)


def service_name(path: Path) -> str:
    """The model, bento and image name for a data file: its stem as a lower-case slug plus ``-model``
    (also a valid DVC artifact name: letters, digits and inner dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "data"
    return slug if slug.endswith("model") else f"{slug}-model"


def _inside(path: Path, root: Path) -> str:
    """``path`` relative to the repository root (POSIX), or a refusal naming the problem."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise AdoptError(
            f"{path} is outside the repository {root}: copy it in (e.g. under data/) or track it with "
            "`dvc add` / `dvc import-url`, then run mlship init on that path"
        ) from None


def _not_an_output(relative: str, params: Params) -> None:
    outputs = {params.paths.raw.parent, params.paths.validated.parent, params.paths.model.parent}
    for directory in sorted(outputs):
        if Path(relative).is_relative_to(directory):
            raise AdoptError(
                f"{relative} is inside {directory.as_posix()}/, which holds pipeline outputs (git-ignored, "
                "overwritten by `dvc repro`): move the file elsewhere, e.g. data/"
            )


def _header(relative: str, sha256: str, rows: int) -> list[str]:
    return [
        "schema.yaml: the data contract - the one place columns, kinds, ranges, categories, the target",
        "and its task, the sensitive attributes and the reader's options are declared. Validation, the",
        "features, the checks, the gates' slices, the service's request contract and the test strategies",
        "derive from it.",
        "",
        f"DRAFT written by `mlship init` from {relative} (sha256 {sha256[:12]}..., {rows} rows).",
        "Review it before committing:",
        "  - ranges are the observed min and max: widen each to what valid data may hold (validation and",
        "    the service refuse anything outside);",
        "  - categories are the values seen: add every other valid one;",
        "  - kinds follow the rules in src/mlship/adopt/inference.py: a number that codes categories may be",
        "    declared categorical (its categories are then the codes as text);",
        "  - describe each feature (the service's API documentation shows the descriptions).",
        'Reference: docs/forking.md ("schema.yaml").',
    ]


def run(
    path: Path,
    *,
    target: str,
    sensitive: Sequence[str] = (),
    task: Task | None = None,
    params_path: Path = Path("params.yaml"),
    root: Path = Path(),
) -> InitResult:
    """Adopt the data file at ``path``; relative paths are relative to the repository ``root``."""
    path, params_path = root / path, root / params_path
    params = load_params(params_path)
    relative = _inside(path, root)
    _not_an_output(relative, params)
    table = read_data(path)
    inferred = infer_schema(table.frame, table.reader, target, sensitive, task)
    schema = inferred.schema
    sha256 = sha256_of(path)
    frame = table.frame.drop(columns=list(schema.reader.drop))  # as the pipeline will read it
    updates = params_updates(
        profile(frame, schema, params.split.test_size, params.split.seed),
        source=relative,
        sha256=sha256,
        raw=(params.paths.raw.parent / path.name).as_posix(),
        service_name=service_name(path),
        test_size=params.split.test_size,
    )
    params_text = update_params(params_path.read_text(encoding="utf-8"), updates)
    adopted = parse_params(yaml.safe_load(params_text), params_path)
    problems = mismatches(adopted, metric_names(schema.task), schema.numeric_names, schema.sensitive)
    if problems:  # pragma: no cover - the defaults are built from the schema; a bug, not a user error
        raise RuntimeError("mlship init wrote settings that do not fit the data: " + "; ".join(problems))
    facts = dataset_facts(frame, schema, {"kind": "file", "path": relative}, sha256)
    outputs = (
        (root / adopted.data.schema_path, render_schema(schema, _header(relative, sha256, len(frame)))),
        (params_path, params_text),
        (root / FACTS_PATH, render_facts(facts)),
    )
    written: list[Path] = []
    unchanged: list[Path] = []
    for output, text in outputs:
        (written if write_if_changed(output, text) else unchanged).append(output.relative_to(root))
    return InitResult(schema, adopted, inferred.notes, tuple(written), tuple(unchanged))
