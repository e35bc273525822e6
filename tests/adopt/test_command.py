"""``mlship init`` end to end on a copy of the project's declared files: it writes a schema the file
validates against, points ``params.yaml`` at the file (keeping its comments), rewrites the dataset facts,
changes nothing on a second run, refuses bad input naming the problem without touching a file, and
completes after a crash half way."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlship.adopt import command
from mlship.adopt.errors import AdoptError
from mlship.adopt.facts import FACTS_PATH
from mlship.cli import main
from mlship.config import load_params
from mlship.data.ingest import sha256_of
from mlship.data.schema import load_schema, read_source
from mlship.data.validate import validate

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("schema.yaml", "params.yaml", FACTS_PATH.as_posix())


def _data(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    income = rng.normal(50, 15, size=rows).round(2)
    frame = pd.DataFrame(
        {
            "customer": [f"C-{i:04d}" for i in range(rows)],  # an identifier: left out
            "tenure": rng.integers(0, 72, size=rows),
            "income": income,
            "plan": rng.choice(["basic", "plus", "pro"], size=rows),
            "region": rng.choice(["north", "south"], size=rows),
            "paperless": rng.choice([True, False], size=rows),
            "churned": np.where(income + rng.normal(0, 10, size=rows) > 55, "Yes", "No"),
        }
    )
    frame.loc[::10, "plan"] = None
    return frame


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository root holding copies of the project's params.yaml and schema.yaml, and a data file."""
    for name in ("params.yaml", "schema.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    (tmp_path / "data").mkdir()
    _data().to_csv(tmp_path / "data" / "Customer Churn.csv", index=False)
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {name: (root / name).read_bytes() if (root / name).exists() else None for name in OUTPUTS}


def _adopt(root: Path, **overrides: object) -> command.InitResult:
    arguments: dict[str, object] = {"target": "churned", "sensitive": ["region"], "root": root}
    arguments.update(overrides)
    path = arguments.pop("path", Path("data/Customer Churn.csv"))
    return command.run(path, **arguments)  # type: ignore[arg-type]


def test_init_writes_a_schema_the_file_validates_against(project: Path) -> None:
    # given a repository and a data file in it
    original_params = (project / "params.yaml").read_text(encoding="utf-8")
    # when the file is adopted
    result = _adopt(project)
    # then the three declared files are written
    assert sorted(p.as_posix() for p in result.written) == sorted(OUTPUTS)
    params = load_params(project / "params.yaml")
    schema = load_schema(project / params.data.schema_path)
    # and the file, read as the pipeline reads it, passes validation against the drafted schema
    data = project / "data" / "Customer Churn.csv"
    assert validate(read_source(data, schema), schema).ok
    assert (schema.task, schema.target.positive, schema.sensitive) == ("binary", "Yes", ("region",))
    assert {c.name: c.kind for c in schema.features} == {
        "tenure": "integer",
        "income": "float",
        "plan": "categorical",
        "region": "categorical",
        "paperless": "boolean",
    }
    assert [c.name for c in schema.features if c.nullable] == ["plan"]
    # and params.yaml points at the file by repository-relative path and hash, with the derived names
    source = params.data.source
    assert (source.kind, str(source.path), source.sha256) == (
        "file",
        "data/Customer Churn.csv",
        sha256_of(data),
    )
    assert params.paths.raw == Path("data/raw/Customer Churn.csv")
    assert params.service.name == "customer-churn-model"
    # and every comment line of the original that init does not own is still there
    kept = [line for line in original_params.splitlines() if line.lstrip().startswith("# FORK")]
    text = (project / "params.yaml").read_text(encoding="utf-8")
    assert kept
    assert all(line in text for line in kept)
    # and the facts describe the file
    facts = yaml.safe_load((project / FACTS_PATH).read_text(encoding="utf-8"))
    assert facts["rows"] == 300
    assert facts["missing"]["plan"] == 30
    assert "customer" not in facts["columns"]
    assert schema.reader.drop == ("customer",)
    assert facts["source"] == {"kind": "file", "path": "data/Customer Churn.csv"}
    # and the summary names what to review next
    rendered = result.render()
    assert "positive label 'Yes'" in rendered
    assert "make run && make test; then make gates" in rendered


def test_a_second_run_changes_nothing(project: Path) -> None:
    # given a file adopted once
    _adopt(project)
    before = _snapshot(project)
    # when it is adopted again with the same arguments
    result = _adopt(project)
    # then no file is written and every byte is the same
    assert result.written == ()
    assert _snapshot(project) == before


def test_a_crash_half_way_is_completed_by_a_rerun(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the outcome of one uninterrupted run, on an identical copy
    clean = tmp_path_factory.mktemp("clean")
    for name in ("params.yaml", "schema.yaml"):
        shutil.copy(project / name, clean / name)
    shutil.copytree(project / "data", clean / "data")
    _adopt(clean)
    # when a run crashes after replacing its first file (the second rename fails)
    real_replace = Path.replace
    calls = {"n": 0}

    def crash_on_second(self: Path, target: Path) -> Path:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("killed")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", crash_on_second)
    with pytest.raises(OSError, match="killed"):
        _adopt(project)
    monkeypatch.setattr(Path, "replace", real_replace)
    # then the files are each either old or new (never partial), and a re-run ends where a clean run does
    _adopt(project)
    assert _snapshot(project) == _snapshot(clean)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"path": Path("data/absent.csv")}, r"absent\.csv: no such file"),
        ({"target": "cancelled"}, r"target 'cancelled' is not a column"),
        ({"sensitive": ["gender"]}, r"sensitive column 'gender' is not a column"),
        ({"sensitive": ["income"]}, r"sensitive column 'income' is a float column"),
        ({"task": "regression"}, r"task regression needs numbers"),
        ({"target": "region", "sensitive": []}, None),  # a valid adoption: the control case
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(
    project: Path, overrides: dict[str, object], message: str | None
) -> None:
    # given the declared files before
    before = _snapshot(project)
    if message is None:
        # when the arguments are valid, then files change (so the refusals below are not vacuous)
        _adopt(project, **overrides)
        assert _snapshot(project) != before
        return
    # when the arguments are bad, then the refusal names the problem and no file changed
    with pytest.raises(AdoptError, match=message):
        _adopt(project, **overrides)
    assert _snapshot(project) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("constant.csv", "a,y\n1,same\n2,same\n", r"'y' is constant"),
        ("garbage.csv", "\x00\x01\x02", r"unreadable as CSV|no data rows"),
        ("only-target.csv", "y\n1\n2\n", r"no feature columns"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(
    project: Path, name: str, content: str, message: str
) -> None:
    # given a file that cannot be adopted
    (project / "data" / name).write_text(content, encoding="utf-8")
    before = _snapshot(project)
    # when it is adopted, then the refusal names the problem and no file changed
    with pytest.raises(AdoptError, match=message):
        _adopt(project, path=Path("data") / name, target="y", sensitive=[])
    assert _snapshot(project) == before


def test_a_file_outside_the_repository_or_among_outputs_is_refused(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # given copies of the data outside the repository and inside the raw-data output directory
    outside = tmp_path_factory.mktemp("elsewhere") / "churn.csv"
    shutil.copy(project / "data" / "Customer Churn.csv", outside)
    (project / "data" / "raw").mkdir()
    shutil.copy(outside, project / "data" / "raw" / "churn.csv")
    before = _snapshot(project)
    # when either is adopted, then each refusal says why and nothing is written
    with pytest.raises(AdoptError, match=r"outside the repository"):
        _adopt(project, path=outside)
    with pytest.raises(AdoptError, match=r"inside data/raw/, which holds pipeline outputs"):
        _adopt(project, path=Path("data/raw/churn.csv"))
    assert _snapshot(project) == before


def test_the_cli_runs_init_and_reports_refusals(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the repository as the working directory
    monkeypatch.chdir(project)
    # when `mlship init` is run with a missing target, then it exits 1 naming the problem
    assert main(["init", "data/Customer Churn.csv", "--target", "nope"]) == 1
    assert "mlship init: error: target 'nope' is not a column" in capsys.readouterr().err
    # when it is run properly, twice, then it succeeds and the second run reports nothing written
    args = [
        "init",
        "data/Customer Churn.csv",
        "--target",
        "churned",
        "--sensitive",
        "region",
        "--task",
        "binary",
    ]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "unchanged params.yaml" in out
    assert "Review next" in out


_WORDS = st.sampled_from(["a", "b", "Yes", "no", "1", "2.5", "-3", "x y", "q,r", 'say "hi"', "NA", ""])


@st.composite
def _csv_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(min_value=3, max_value=15)) * 2
    names = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_ ]{0,6}", fullmatch=True), min_size=1, max_size=4, unique=True)
    )
    columns = {
        name: draw(st.lists(st.one_of(_WORDS, st.none()), min_size=rows, max_size=rows)) for name in names
    }
    labels = draw(st.lists(st.sampled_from(["Yes", "No", "Maybe"]), min_size=rows // 2, max_size=rows // 2))
    columns["target"] = labels + labels[::-1]
    return pd.DataFrame(columns)


@settings(max_examples=25)
@given(_csv_frames())
def test_any_adoptable_file_validates_and_a_rerun_changes_nothing(frame: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as directory:
        # given a repository and any CSV file
        root = Path(directory)
        for name in ("params.yaml", "schema.yaml"):
            shutil.copy(REPO_ROOT / name, root / name)
        (root / "data").mkdir()
        frame.to_csv(root / "data" / "any.csv", index=False)
        # when it is adopted (or refused, naming the problem)
        try:
            command.run(Path("data/any.csv"), target="target", root=root)
        except AdoptError:
            assert _snapshot(root)["tests/facts.yaml"] is None  # refused: nothing written
            return
        # then the file validates against the written schema, and a second run changes nothing
        schema = load_schema(root / "schema.yaml")
        assert validate(read_source(root / "data" / "any.csv", schema), schema).ok
        before = _snapshot(root)
        assert command.run(Path("data/any.csv"), target="target", root=root).written == ()
        assert _snapshot(root) == before
