"""The rules every workflow and the composite action follow, as functions returning the problems found.

Applied to the real `.github/` files (no problem allowed) and to deliberately broken fixtures (each rule
must find its problem), so a rule that silently stopped working would fail its own test.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\b")
TARGET_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path}: not a mapping"
    # YAML 1.1 reads the bare key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every step of every job (``job`` name, step), or of a composite action (job name ``runs``)."""
    for name, job in (document.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield name, step
    for step in (document.get("runs") or {}).get("steps") or []:
        yield "runs", step


def unpinned_uses(text: str) -> list[str]:
    """``uses:`` lines that are neither local nor pinned to a full commit SHA with a version comment."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match or match.group(1).startswith("./"):
            continue
        target, rest = match.group(1), match.group(2)
        if not SHA_PIN.match(target):
            problems.append(f"line {number}: {target} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.search(rest):
            problems.append(f"line {number}: {target} has no `# vX.Y.Z` comment naming the version")
    return problems


def missing_permissions(document: dict[str, Any]) -> list[str]:
    """Top-level ``permissions: {}`` and an explicit ``permissions`` block on every job."""
    problems = []
    if document.get("permissions") != {}:
        problems.append("top-level permissions must be {} (grant per job)")
    for name, job in (document.get("jobs") or {}).items():
        if "permissions" not in job:
            problems.append(f"job {name}: no explicit permissions")
    return problems


def expressions_in_run(document: dict[str, Any]) -> list[str]:
    """``${{ }}`` inside a ``run:`` script (pass values through ``env:`` instead)."""
    problems = []
    for job, step in steps(document):
        script = step.get("run")
        if isinstance(script, str) and "${{" in script:
            kind = "untrusted event data" if "github.event" in script else "an expression"
            problems.append(f"job {job}: run step interpolates {kind}: {script.strip()!r}")
    return problems


def persisted_credentials(document: dict[str, Any]) -> list[str]:
    problems = []
    for job, step in steps(document):
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(f"job {job}: actions/checkout without persist-credentials: false")
    return problems


def makefile_targets(makefile: Path) -> set[str]:
    return {
        m.group(1)
        for line in makefile.read_text(encoding="utf-8").splitlines()
        if (m := TARGET_LINE.match(line))
    }


def run_commands(document: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    for job, step in steps(document):
        script = step.get("run")
        if isinstance(script, str):
            yield job, shlex.split(script)


def bad_run_steps(document: dict[str, Any], targets: set[str]) -> list[str]:
    """Every ``run:`` is ``make <existing target> [VAR=value...]`` or the ``cml comment`` command."""
    problems = []
    for job, words in run_commands(document):
        if words[:1] == ["make"]:
            named = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            if not named:
                problems.append(f"job {job}: `make` without a target")
            problems += [
                f"job {job}: make target {t!r} is not in the Makefile" for t in named if t not in targets
            ]
        elif words[:2] != ["cml", "comment"]:
            problems.append(f"job {job}: run step is not a make target or the CML command: {' '.join(words)}")
    return problems


def problems(path: Path, makefile: Path) -> list[str]:
    """All rules on one file."""
    document = load(path)
    found = unpinned_uses(path.read_text(encoding="utf-8"))
    if "jobs" in document:
        found += missing_permissions(document)
    found += expressions_in_run(document)
    found += persisted_credentials(document)
    found += bad_run_steps(document, makefile_targets(makefile))
    return found
