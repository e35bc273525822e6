"""The reproducibility gate: after ``dvc repro``, the committed lock, metrics and plots must be unchanged.

Run in CI right after ``dvc repro`` on a clean checkout: any difference from ``HEAD`` means the numbers in git
are not what the committed code and data produce.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from mlship import gitrefs

RESULT_FILE = "repro-check.json"
FIX = "run `make run` and commit the result"


@dataclass(frozen=True)
class Difference:
    path: str
    status: str  # "modified", "deleted", "not committed"


@dataclass(frozen=True)
class ReproResult:
    head: str | None
    checked: tuple[str, ...]
    files: tuple[Difference, ...]

    @property
    def passed(self) -> bool:
        return not self.files

    @property
    def message(self) -> str:
        if self.passed:
            return f"reproduced outputs match the commit: {', '.join(self.checked)}"
        names = ", ".join(d.path for d in self.files)
        return f"the reproduced pipeline outputs differ from the committed ones ({names}): {FIX}"

    def to_json(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "head": self.head,
            "checked": list(self.checked),
            "files": [asdict(d) for d in self.files],
            "message": self.message,
        }


_STATUS = {"M": "modified", "D": "deleted", "A": "added", "T": "type changed", "R": "renamed"}


def compare(paths: list[str], repo: Path) -> ReproResult:
    """Files under ``paths`` that differ from ``HEAD`` (tracked and changed, or new and not ignored)."""
    head = gitrefs.head(repo)
    if head is None:
        raise RuntimeError(f"{repo}: no commit to compare with (is it a git repository with a commit?)")
    changed = gitrefs.git(["diff", "--name-status", "--no-renames", "HEAD", "--", *paths], repo) or ""
    untracked = gitrefs.git(["ls-files", "--others", "--exclude-standard", "--", *paths], repo) or ""
    files = [
        Difference(line.split("\t", 1)[1], _STATUS.get(line[0], line.split("\t", 1)[0]))
        for line in changed.splitlines()
        if "\t" in line
    ]
    files += [Difference(path, "not committed") for path in untracked.splitlines() if path]
    return ReproResult(head, tuple(paths), tuple(sorted(files, key=lambda d: d.path)))


def run(paths: list[str], repo: Path, reports: Path) -> ReproResult:
    """Compare and write ``<reports>/repro-check.json`` (the report shows it)."""
    result = compare(paths, repo)
    out = repo / reports / RESULT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return result
