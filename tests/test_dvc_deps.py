"""Every project module a stage's command imports is a dependency of that stage in ``dvc.yaml``, so a code
change reruns exactly the stages it can affect (a missing one leaves stale outputs that look current).

The imports are read statically: the command's handler in ``cli.py`` names the stage's module; everything
that module imports from ``mlship`` (transitively), plus what ``cli.py`` imports at its top, must be listed.
``cli.py`` itself only routes a command to its module and is not listed (editing the CLI would otherwise
rerun the whole pipeline).
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

SRC = Path("src")


def _module_file(root: Path, module: str) -> Path | None:
    base = root / SRC / Path(*module.split("."))
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    candidate = base.with_suffix(".py")
    return candidate if candidate.exists() else None


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == "mlship"}


def _closure(root: Path, modules: set[str]) -> set[str]:
    """Source files (relative, posix) of ``modules`` and of every project module they import."""
    seen: set[Path] = set()
    stack = list(modules)
    while stack:
        path = _module_file(root, stack.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        stack += _imports(ast.parse(path.read_text(encoding="utf-8")))
    return {p.relative_to(root).as_posix() for p in seen if p.name != "__init__.py"}


def _handler_imports(cli: ast.Module, command: str) -> set[str]:
    name = "_" + command.replace("-", "_")
    for node in cli.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return _imports(node)
    raise AssertionError(f"cli.py has no handler {name} for `mlship {command}`")


def _top_level_imports(cli: ast.Module) -> set[str]:
    return _imports(
        ast.Module(body=[n for n in cli.body if isinstance(n, ast.Import | ast.ImportFrom)], type_ignores=[])
    )


def missing_dependencies(root: Path, stages: dict[str, Any]) -> dict[str, set[str]]:
    """For each stage: the project source files its command imports that its ``deps`` do not list."""
    cli = ast.parse((root / SRC / "mlship" / "cli.py").read_text(encoding="utf-8"))
    common = _top_level_imports(cli)
    missing: dict[str, set[str]] = {}
    for name, stage in stages.items():
        match = re.search(r"\bmlship\s+([a-z][a-z-]*)", stage["cmd"])
        assert match, f"stage {name}: its command is not an `mlship <command>`"
        required = _closure(root, common | _handler_imports(cli, match.group(1)))
        required.discard("src/mlship/cli.py")
        listed = {str(dep) for dep in stage.get("deps", [])}
        if lacking := required - listed:
            missing[name] = lacking
    return missing


def _stages(root: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"])


def test_every_stage_lists_the_project_code_its_command_imports(repo_root: Path) -> None:
    stages = _stages(repo_root)
    assert missing_dependencies(repo_root, stages) == {}
    for name, stage in stages.items():
        deps = [str(dep) for dep in stage.get("deps", [])]
        assert len(deps) == len(set(deps)), f"stage {name} lists a dependency twice"


@pytest.mark.parametrize("stage", ["validate", "split", "train", "evaluate", "checks"])
def test_a_dropped_dependency_is_named(repo_root: Path, stage: str) -> None:
    # given dvc.yaml without one of the stage's code dependencies (the schema loader, which every stage uses)
    stages = _stages(repo_root)
    stages[stage]["deps"] = [d for d in stages[stage]["deps"] if d != "src/mlship/data/schema.py"]
    # when checked / then that stage and that file are reported, and nothing else
    assert missing_dependencies(repo_root, stages) == {stage: {"src/mlship/data/schema.py"}}


def test_a_new_import_in_a_stage_module_is_caught(repo_root: Path, tmp_path: Path) -> None:
    # given a copy of the sources where the split stage starts importing the features module
    copy = tmp_path / "repo"
    (copy / "src").mkdir(parents=True)
    shutil.copytree(repo_root / "src" / "mlship", copy / "src" / "mlship")
    split = copy / "src" / "mlship" / "data" / "split.py"
    split.write_text(split.read_text(encoding="utf-8") + "\nfrom mlship import features  # noqa: F401\n")
    # when checked / then split is missing the features module
    assert missing_dependencies(copy, _stages(repo_root)) == {"split": {"src/mlship/features.py"}}
