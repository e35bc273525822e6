"""What ``mlship init`` writes: YAML scalars that read back as themselves, atomic writes that happen only on
a change, and ``params.yaml`` edits that keep every comment, key order and value they do not reset."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlship.adopt.defaults import Section, Setting
from mlship.adopt.writing import scalar, update_params, write_if_changed

REPO_ROOT = Path(__file__).resolve().parents[2]

_SCALARS = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)


@given(_SCALARS)
def test_a_scalar_reads_back_as_itself_anywhere(value: Any) -> None:
    # given any text, number, boolean or null
    # when it is written as YAML flow text
    text = scalar(value)
    # then it is one line, and reads back as the same value alone, in a flow list and in a flow mapping
    assert "\n" not in text
    for document, unwrap in (
        (text, lambda v: v),
        (f"[{text}, x]", lambda v: v[0]),
        (f"{{k: {text}}}", lambda v: v["k"]),
    ):
        loaded = unwrap(yaml.safe_load(document))
        assert loaded == value or (isinstance(value, float) and math.isinf(value) and loaded == value)


def test_write_if_changed_writes_only_a_change(tmp_path: Path) -> None:
    # given a file
    path = tmp_path / "out.yaml"
    # when the same text is written twice
    first = write_if_changed(path, "a: 1\n")
    stamp = path.stat().st_mtime_ns
    second = write_if_changed(path, "a: 1\n")
    # then only the first write happens, and no partial file is left
    assert (first, second) == (True, False)
    assert path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a file and a rename that fails (a crash between writing and replacing)
    path = tmp_path / "out.yaml"
    path.write_text("old: 1\n", encoding="utf-8")

    def crash(self: Path, target: Path) -> Path:
        raise OSError("disk gone")

    monkeypatch.setattr(Path, "replace", crash)
    # when new content is written
    with pytest.raises(OSError, match="disk gone"):
        write_if_changed(path, "new: 2\n")
    # then the old content is intact
    assert path.read_text(encoding="utf-8") == "old: 1\n"


_TEXT = """\
# header comment
a:
  x: 1                # about x
  y: 2
  # about b, above it
b:
  keep: true          # untouched
  gone: 3
  # above c
c: [1, 2]
"""


def test_update_keeps_comments_order_and_other_values() -> None:
    # given a commented file and updates that set, add and remove keys
    updates = Section(
        {
            "a": Section({"x": Setting(10, "new reason")}, exact=True),
            "b": Section({"added": Setting("v")}),
            "c": Setting([3, 4]),
        }
    )
    # when they are applied
    text = update_params(_TEXT, updates)
    # then values change as asked, the other keys stay in order, and the comments survive
    assert yaml.safe_load(text) == {"a": {"x": 10}, "b": {"keep": True, "gone": 3, "added": "v"}, "c": [3, 4]}
    assert "x: 10               # new reason" in text
    for comment in ("# header comment", "# about b, above it", "# untouched", "# above c"):
        assert comment in text
    assert "# about x" not in text
    assert "c: [3, 4]" in text
    # and applying them again changes nothing
    assert update_params(text, updates) == text


def test_emptied_mapping_is_written_flow_style_with_a_new_note_above() -> None:
    # given a mapping to reset to nothing, and the note to put above it
    updates = Section({"b": Section({}, exact=True, above=("reset", "by init"))})
    # when applied
    text = update_params(_TEXT, updates)
    # then the mapping is `{}`, the note replaces the old comment above it, and nothing else moves
    assert yaml.safe_load(text)["b"] == {}
    assert "  y: 2\n# reset\n# by init\nb: {}\n  # above c\nc: [1, 2]\n" in text
    assert "about b, above it" not in text
    assert update_params(text, updates) == text


def test_update_of_the_project_params_is_idempotent_and_local() -> None:
    # given the project's params.yaml and an update of a few keys
    original = (REPO_ROOT / "params.yaml").read_text(encoding="utf-8")
    updates = Section(
        {"service": Section({"name": Setting("x-model")}), "split": Section({"seed": Setting(7)})}
    )
    # when applied twice
    once = update_params(original, updates)
    twice = update_params(once, updates)
    # then only those lines differ, and the second application changes nothing
    changed = [line for line in once.splitlines() if line not in original.splitlines()]
    assert [line.split("#")[0].strip() for line in changed] == ["seed: 7", "name: x-model"]
    assert twice == once
