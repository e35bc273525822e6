"""bench/fresh_machine.py follows the README: the commands it runs are the README's, read from its block.

The script itself takes ~15 minutes (a fresh Debian root, apt installs, the whole suite) and runs by hand
(docs/benchmarks.md); these tests cover what decides *which* commands it runs and how it refuses bad input.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "fresh_machine.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fresh_machine", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fresh_machine = _load()


def test_it_runs_the_readmes_two_commands_in_order() -> None:
    # given the README as shipped / when the script reads its "The two commands" block
    commands = fresh_machine.readme_commands((ROOT / "README.md").read_text())
    # then it runs exactly the commands shown there, comments dropped, in the README's order
    block = (ROOT / "README.md").read_text().split("## The two commands", 1)[1].split("```")[1]
    shown = [line.split("#")[0].strip()[2:].strip() for line in block.splitlines() if line.startswith("$ ")]
    assert commands == shown
    assert commands[-1] == "make test"


def test_quick_mode_only_narrows_the_test_run() -> None:
    # given the README's commands / when --quick plans them
    planned = fresh_machine.quick(["make run", "make test"])
    # then `make run` is unchanged and `make test` gets the machine-set-up subset
    assert planned == ["make run", "make test PYTEST_ARGS=\"-x -k 'machine or facts'\""]


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_=.", min_size=1, max_size=12)
_COMMENT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=40)


@given(words=st.lists(_WORD, min_size=1, max_size=4), comment=_COMMENT)
def test_a_comment_after_a_command_is_not_part_of_it(words: list[str], comment: str) -> None:
    # given a README whose block shows one command followed by any comment
    readme = f"# x\n\n## The two commands\n\n```console\n$ {' '.join(words)}   # {comment}\n```\n"
    # when the script reads it / then it runs the command's words only
    assert fresh_machine.readme_commands(readme) == [" ".join(words)]


def test_a_readme_without_the_block_is_a_usage_error() -> None:
    with pytest.raises(fresh_machine.UsageError, match="The two commands"):
        fresh_machine.readme_commands("# a project\n\nno commands here\n")


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # given a --root that is not a clone of this repository (or a host that cannot run the benchmark)
    # when the script starts
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path)], capture_output=True, text=True, check=False
    )
    # then it stops before any work: one line on stderr, exit 2, no traceback
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("fresh_machine: ")
    assert result.stdout == ""
