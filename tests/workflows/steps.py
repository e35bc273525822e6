"""Run a workflow job's steps locally, in order, in a clone of the repository.

``run:`` steps execute with bash in the clone, with the step's ``env:``. ``uses:`` steps are replaced by their
local equivalent: checkout is the clone itself, the composite setup action runs its own ``run:`` steps
(``make setup``), setup-python/setup-uv/setup-cml are the tools already on this machine, a cache restore
copies the given cache directory in, an artifact upload checks that its path exists, and the CML command
writes the comment body to a file instead of posting it (CML cannot be installed here; nothing is posted).
Expressions are not evaluated: each ``if:``/``env`` expression the workflows use is listed in
``KNOWN_EXPRESSIONS`` with the value it has on a same-repository pull request (or, for the production
loop's workflows, on a scheduled run or a dispatch with the default inputs); an unknown one is an error.
A test may replace a ``run:`` step by a stand-in script (``stand_ins``), and must say why.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.shared import clone_working_tree
from tests.workflows import policy

ROOT = Path(__file__).resolve().parents[2]

#: The value each expression has on a pull request from a branch of the same repository, no variables set.
KNOWN_EXPRESSIONS: dict[str, str] = {
    "${{ !cancelled() }}": "true",
    "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository }}": "true",
    "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository && "
    "vars.MLSHIP_CML_PUBLISH != 'true' }}": "true",
    "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository && "
    "vars.MLSHIP_CML_PUBLISH == 'true' }}": "false",
    "${{ vars.MLSHIP_CML_PUBLISH == 'true' }}": "false",
    "${{ github.token }}": "local-token-unused",
    "${{ vars.DVC_REMOTE_URL }}": "",
    "${{ secrets.DVC_REMOTE_ACCESS_KEY_ID }}": "",
    "${{ secrets.DVC_REMOTE_SECRET_ACCESS_KEY }}": "",
    # monitor.yml and retrain.yml: a scheduled run / a dispatch with the default inputs, no variables set;
    # the token is the one the tests' fake GitHub server accepts (tests/github/fake.py).
    "${{ inputs.environment || 'production' }}": "production",
    "${{ vars.MLSHIP_MONITOR_FROM }}": "",
    "${{ inputs.reason }}": "by hand",
    "${{ inputs.trials }}": "",
    "${{ secrets.GITHUB_TOKEN }}": "local-github-token",
    "${{ secrets.MLSHIP_RETRAIN_TOKEN || secrets.GITHUB_TOKEN }}": "local-github-token",
}


@dataclass
class StepResult:
    name: str
    seconds: float
    returncode: int
    output: str = ""


@dataclass
class JobRun:
    job: str
    steps: list[StepResult] = field(default_factory=list)
    comment: Path | None = None

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.returncode != 0]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


def expression(value: Any) -> str:
    text = str(value).strip()
    if "${{" not in text:
        return text
    if text not in KNOWN_EXPRESSIONS:
        raise ValueError(
            f"the step runner does not know the expression {text!r}: add it to KNOWN_EXPRESSIONS"
        )
    return KNOWN_EXPRESSIONS[text]


def condition(step: dict[str, Any]) -> bool:
    if "if" not in step:
        return True
    text = str(step["if"]).strip()
    return expression(text if text.startswith("${{") else f"${{{{ {text} }}}}") == "true"


def _shell(clone: Path, script: str, env: dict[str, str], name: str) -> StepResult:
    start = time.perf_counter()
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return StepResult(
        name, time.perf_counter() - start, result.returncode, result.stdout[-4000:] + result.stderr[-4000:]
    )


def _cml(clone: Path, script: str, out: Path) -> StepResult:
    """The CML command, checked and replaced by writing the body it would post to ``out``."""
    words = shlex.split(script)
    assert words[:3] == ["cml", "comment", "update"], words
    body = clone / words[-1]
    if not body.exists():
        return StepResult(f"cml ({words[-1]})", 0.0, 1, f"{words[-1]} does not exist")
    out.write_text(body.read_text(encoding="utf-8"), encoding="utf-8")
    return StepResult(f"cml comment update -> {out.name}", 0.0, 0)


def _uses(clone: Path, step: dict[str, Any], env: dict[str, str], cache: Path | None) -> StepResult | None:
    action = str(step["uses"])
    if action.startswith("./"):
        document = policy.load(clone / action / "action.yml")
        results = [
            _shell(clone, inner["run"], env, f"{action}: {inner['run']}")
            for inner in document["runs"]["steps"]
            if "run" in inner
        ]
        failed = [r for r in results if r.returncode]
        return StepResult(
            action,
            sum(r.seconds for r in results),
            failed[0].returncode if failed else 0,
            "".join(r.output for r in failed),
        )
    name = action.split("@", 1)[0]
    if name in ("actions/cache", "actions/cache/restore"):
        if cache is not None and cache.exists():
            target = clone / step["with"]["path"]
            shutil.copytree(cache, target, dirs_exist_ok=True)
        return StepResult(f"{name} (restore {cache})", 0.0, 0)
    if name == "actions/upload-artifact":
        path = clone / step["with"]["path"]
        ok = path.exists() and any(path.iterdir())
        return StepResult(
            f"{name} ({step['with']['path']})", 0.0, 0 if ok else 1, "" if ok else "nothing to upload"
        )
    return None  # checkout (the clone), setup-python / setup-uv / setup-cml (tools on this machine)


#: Variables of the shell running these tests that a GitHub job would not have. make's own (MAKEFLAGS and
#: friends) matter most: under `make test PYTEST_ARGS=...` they would override a job's PYTEST_ARGS in every
#: make the job starts.
OUTER_ENVIRONMENT = frozenset(
    {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
)


def run_job(
    workflow: dict[str, Any],
    job: str,
    clone: Path,
    *,
    comment: Path,
    cache: Path | None = None,
    extra_env: dict[str, str] | None = None,
    stand_ins: dict[str, str] | None = None,
) -> JobRun:
    """Every step of ``job`` in order; after a failure only steps with an ``if:`` still run.

    ``stand_ins`` maps a step's ``run:`` text to a bash script run in its place (its name stays the step's).
    """
    env = {k: v for k, v in os.environ.items() if k not in OUTER_ENVIRONMENT}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    env.update(extra_env or {})
    outcome = JobRun(job)
    for step in workflow["jobs"][job]["steps"]:
        if outcome.failed and "if" not in step:
            break  # GitHub skips later steps after a failure unless their `if:` says otherwise
        if not condition(step):
            continue
        step_env = {**env, **{k: expression(v) for k, v in (step.get("env") or {}).items()}}
        if "uses" in step:
            result = _uses(clone, step, step_env, cache)
        elif str(step["run"]).startswith("cml "):
            result = _cml(clone, step["run"], comment)
            outcome.comment = comment
        else:
            script = (stand_ins or {}).get(step["run"], step["run"])
            result = _shell(clone, script, step_env, step["run"])
        if result is not None:
            outcome.steps.append(result)
    return outcome


def clone_with_working_tree(target: Path, root: Path = ROOT) -> Path:
    """A clone of the repository whose HEAD is a commit of the current working tree, on a PR branch.

    `main` exists only as `origin/main`, as in a GitHub Actions checkout of a pull request.
    """
    return clone_working_tree(target, root, branch="step-runner")
