"""The real `dvc repro` in a temporary git repository: quality, reproducibility, minimal reruns.

Integration: runs DVC and the `mlship` stages as subprocesses, exactly as `make repro` and CI do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.shared import Reproduced

from mlship.config import load_params
from mlship.data.schema import load_schema, read_processed, write_processed
from mlship.tasks import metric_names

pytestmark = pytest.mark.integration

STAGES = ("ingest", "validate", "split", "train", "evaluate", "checks")


def _run(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=os.environ.copy())
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _ran(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def project(reproduced: Reproduced, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the run's reproduced clone (tests here change params and data)."""
    return reproduced.copy_to(tmp_path_factory.mktemp("project") / "repo")


def test_repro_runs_every_stage_and_meets_the_quality_floor(reproduced: Reproduced) -> None:
    # given a fresh clone (data, model, test-set predictions and reports are not in git) / when `dvc repro`
    # ran there / then every stage ran, since each has an output a clone lacks (evaluate's predictions are
    # DVC-cached; its metrics and plots are committed and must come out as committed, see below)
    assert set(_ran(reproduced.output)) == set(STAGES)
    metrics = json.loads((reproduced.path / "metrics.json").read_text())
    schema = load_schema(reproduced.path / "schema.yaml")
    assert set(metric_names(schema.task)) <= set(metrics["overall"])
    assert set(metrics["slices"]) == set(schema.sensitive)


def test_the_committed_lock_and_metrics_are_what_the_code_produces(reproduced: Reproduced) -> None:
    # then re-running from scratch reproduced dvc.lock, metrics.json and the plots bit for bit
    assert reproduced.status == ""


def test_status_is_clean_and_a_second_repro_is_a_no_op(project: Path) -> None:
    assert "up to date" in _run(project, "dvc", "status")
    assert _ran(_run(project, "dvc", "repro")) == []


def test_a_forced_repro_gives_a_byte_identical_model_and_identical_metrics(project: Path) -> None:
    model, metrics = project / "models" / "model.joblib", project / "metrics.json"
    before = (_sha256(model), metrics.read_text())
    # (the model's lineage only: the check reports' determinism is covered by the committed-lock test)
    assert _ran(_run(project, "dvc", "repro", "--force", "evaluate")) == [s for s in STAGES if s != "checks"]
    assert (_sha256(model), metrics.read_text()) == before


def test_the_model_bytes_do_not_depend_on_the_callers_blas_and_thread_settings(project: Path) -> None:
    # given the models `dvc repro` trained, as recorded in dvc.lock
    models = [project / "models" / "model.joblib", project / "models" / "simple_model.joblib"]
    before = [_sha256(path) for path in models]
    # when `mlship train` runs again in a shell that asks for other BLAS threads, kernels and SIMD loops, and
    # another number of OpenMP threads (each of the BLAS settings alone changes the logistic regression's last
    # bits when nothing pins them; the thread count was written into gradient boosting's pickled bin mapper)
    hostile = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "2",
        "OPENBLAS_CORETYPE": "Sandybridge",
        "NPY_DISABLE_CPU_FEATURES": "AVX2 FMA3",
        # more OpenMP threads than the machine has cores (never what the reproduction used)
        "OMP_NUM_THREADS": str((os.cpu_count() or 1) + 1),
    }
    result = subprocess.run(
        ["mlship", "train"], cwd=project, capture_output=True, text=True, env=hostile, check=False
    )
    assert result.returncode == 0, result.stderr
    # then both models are byte-identical to the recorded ones
    assert [_sha256(path) for path in models] == before


def _edit_params(project: Path, section: str, key: str, value: object) -> None:
    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section][key] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _declared_target(project: Path, revision: str | None) -> tuple[str, str]:
    """The target (name, task) the schema declares at ``revision`` (``None``: the working tree)."""
    path = load_params(project / "params.yaml").data.schema_path.as_posix()
    if revision is None:
        text = (project / path).read_text(encoding="utf-8")
    else:
        show = ["git", "show", f"{revision}:{path}"]
        text = subprocess.run(show, cwd=project, capture_output=True, text=True, check=True).stdout
    target = yaml.safe_load(text)["target"]
    return str(target["name"]), str(target["task"])


def test_the_gates_judge_the_reproduced_pipeline_line_by_line(project: Path) -> None:
    # given the merge base with main (the copy has it as origin/main, as a CI checkout does): the same problem
    # as the working tree, or, in a fork that adopted its data and has not merged it yet, another one
    base = subprocess.run(
        ["git", "merge-base", "HEAD", "origin/main"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    comparable = _declared_target(project, base) == _declared_target(project, None)
    # when the gates run on the reproduced pipeline
    result = subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    # then they compare with main's committed metrics when those describe the same problem, and otherwise say
    # there is no comparable baseline and leave the regression gate unjudged; they end with a tally, and the
    # exit code is the verdict
    lines = result.stdout.splitlines()
    assert "Traceback" not in result.stdout + result.stderr
    if comparable:
        assert lines[0].startswith(f"baseline: metrics.json at main@{base[:8]}"), result.stdout
    else:
        assert lines[0].startswith(f"the baseline at main@{base[:8]} predicts "), result.stdout
        assert lines[0].endswith("no comparable baseline, the absolute limits alone apply")
        assert any(line.startswith("NOT JUDGED regression [main]") for line in lines), result.stdout
    assert lines[-1].startswith("gates: ")
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert result.returncode == (1 if failed else 0), result.stdout + result.stderr
    # and each floor verdict agrees with the metrics and params.yaml
    metrics = json.loads((project / "metrics.json").read_text())["overall"]
    floors = load_params(project / "params.yaml").gates.floors
    below = {name for name, floor in floors.items() if metrics.get(name, -1.0) < floor}
    assert {line.split("[")[1].split("]")[0] for line in failed if line.startswith("FAIL floor")} == below
    verdicts = json.loads((project / "reports" / "gates.json").read_text())
    assert verdicts["passed"] == (result.returncode == 0)


def test_the_gates_fail_on_drifted_test_data_naming_the_check(project: Path) -> None:
    # given a test split whose label distribution drifted (an upstream sampling bug): the most frequent class
    # cut to a seventh of the rows, whatever its share was (a fork's label may be balanced or 95/5)
    test_csv = project / "data" / "processed" / "test.csv"
    original = test_csv.read_bytes()
    schema = load_schema(project / "schema.yaml")
    frame = read_processed(test_csv, schema)
    label = frame[schema.target.name]
    if schema.target.is_classifier:
        majority = label.value_counts().idxmax()
        rest = frame[label != majority]
        drifted = pd.concat([rest, frame[label == majority].head(max(len(rest) // 6, 1))])
    else:
        drifted = frame.assign(**{schema.target.name: label + 3 * label.std() + 1})
    write_processed(drifted.reset_index(drop=True), test_csv)
    reports = project / "reports" / "checks"
    saved = {path: path.read_bytes() for path in reports.glob("train_test.*")}
    try:
        # when the checks and the gates run through the CLI
        _run(project, "mlship", "checks", "train_test")
        result = subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    finally:
        test_csv.write_bytes(original)
        for path, content in saved.items():
            path.write_bytes(content)
    # then the gates fail with one line naming the suite and the check
    assert result.returncode == 1
    assert "FAIL check:train_test [Label Drift]" in result.stdout


def test_a_model_param_change_reruns_only_the_stages_that_read_it(project: Path) -> None:
    _edit_params(project, "model", "seed", 7)
    assert set(_ran(_run(project, "dvc", "repro"))) == {"train", "evaluate", "checks"}


def test_an_evaluate_param_change_reruns_only_evaluate(project: Path) -> None:
    _edit_params(project, "evaluate", "threshold", 0.4)
    assert _ran(_run(project, "dvc", "repro")) == ["evaluate"]


def test_the_serving_cost_is_measured_once_per_model_and_the_gates_refuse_a_stale_one(project: Path) -> None:
    # given the reproduced pipeline
    measured = project / "reports" / "serving_cost.json"
    # when the serving cost is measured twice: `make cost` (with this environment's tools), then `mlship cost`
    stamp = project / ".test-synced"
    stamp.touch()
    first = _run(project, "make", "cost", f"VENV={Path(sys.prefix)}", f"STAMP={stamp}")
    recorded = measured.read_bytes()
    second = _run(project, "mlship", "cost")
    # then the first run measures this tree's model through the service's path and the second changes nothing
    assert "cost: measured" in first
    assert "already measured" in second
    assert measured.read_bytes() == recorded
    document = json.loads(recorded)
    model = project / "models" / "model.joblib"
    assert document["pr"]["footprint"]["model_bytes"] == model.stat().st_size
    assert 0 < document["pr"]["p50_ms"] <= document["pr"]["p99_ms"]
    # and the gates judge it: size and load time always, the latency ratio when the base's model is found
    subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    serving = _serving_verdicts(project)
    assert {"model_mb", "load_s"} <= set(serving)
    assert serving["model_mb"]["status"] == "pass"
    if document["ratios"] is None:
        assert serving["latency_ratio"]["status"] == "not_judged"
    else:
        assert {"latency_p50_ratio", "latency_p99_ratio"} <= set(serving)
    # when the model changes after the measurement (here: the simple model in its place)
    original = model.read_bytes()
    try:
        model.write_bytes((project / "models" / "simple_model.joblib").read_bytes())
        result = subprocess.run(["mlship", "gates"], cwd=project, capture_output=True, text=True, check=False)
    finally:
        model.write_bytes(original)
    # then the serving gates fail closed, naming the stale measurement and the command that measures again
    assert result.returncode == 1
    assert "FAIL serving [measurement]" in result.stdout
    assert "measured another model" in result.stdout
    assert "make cost" in result.stdout


def _serving_verdicts(project: Path) -> dict[str, dict[str, object]]:
    verdicts = json.loads((project / "reports" / "gates.json").read_text(encoding="utf-8"))["verdicts"]
    return {v["target"]: v for v in verdicts if v["gate"] == "serving"}


def test_make_tune_then_tune_apply_on_the_reproduced_pipeline(project: Path) -> None:
    # given the reproduced pipeline and this environment's tools
    stamp = project / ".test-synced"
    stamp.touch()
    tools = [f"VENV={Path(sys.prefix)}", f"STAMP={stamp}"]
    params = project / "params.yaml"
    before = params.read_text(encoding="utf-8")
    # when the README's `make tune` runs (its quick mode) and then `make tune-apply`
    _run(project, "make", "tune", "TUNE_ARGS=--quick", *tools)
    record = json.loads((project / "reports" / "tune.json").read_text(encoding="utf-8"))
    try:
        _run(project, "make", "tune-apply", *tools)
        after = params.read_text(encoding="utf-8")
    finally:
        params.write_text(before, encoding="utf-8")
    # then the chosen trial is the best of the last round by its cross-validated score
    last = max(trial["round"] for trial in record["trials"])
    finalists = [trial for trial in record["trials"] if trial["round"] == last]
    sign = 1 if record["higher_is_better"] else -1
    assert record["chosen"]["trial"] == max(finalists, key=lambda trial: sign * trial["mean"])["trial"]
    assert (project / "reports" / "tune.md").read_text(encoding="utf-8").startswith("## mlship tune")
    # and params.yaml changed only when the gain is beyond noise, and then only in the searched values
    if not record["gain"]["apply"]:
        assert after == before
    else:
        pairs = zip(after.splitlines(), before.splitlines(), strict=True)  # values change in place
        changed = {a.split(":")[0].strip() for a, b in pairs if a != b}
        assert changed
        assert changed <= set(record["chosen"]["params"])
