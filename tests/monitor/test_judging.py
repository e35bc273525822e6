"""Pure judging: drift scores against thresholds, the per-window statistics, skew's bit-for-bit comparison,
and the verdict when nothing can be judged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests.strategies import project_schema

from mlship.config import MonitoringConfig, Params
from mlship.data.schema import Schema
from mlship.monitor import drift, skew
from mlship.monitor.captures import Captured
from mlship.monitor.judge import judge
from mlship.monitor.render import render

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(0, 1), min_size=1))
def test_a_feature_drifts_exactly_when_its_score_passes_its_threshold(scores: dict[str, float]) -> None:
    # given scores for the schema's features (and unknown names, which are ignored)
    schema = project_schema()
    config = MonitoringConfig(max_numeric_drift=0.1, max_categorical_drift=0.2)
    named = {name: ("m", scores[name]) for name in schema.feature_names if name in scores}
    named |= {schema.feature_names[0]: ("m", 0.15)}
    judged = drift.judge({**named, "no-such-feature": ("m", 1.0)}, schema, config)
    assert [f.name for f in judged] == [n for n in schema.feature_names if n in named]
    for feature in judged:
        limit = 0.1 if feature.name in schema.numeric_names else 0.2
        assert feature.drifted == (feature.score > limit)


@given(
    arrays(np.float64, st.integers(1, 50), elements=finite),
    arrays(np.float64, st.integers(1, 50), elements=finite),
)
def test_ks_statistic_is_a_distance(a: np.ndarray, b: np.ndarray) -> None:
    value = drift.ks_statistic(a, b)
    assert 0.0 <= value <= 1.0
    assert drift.ks_statistic(a, a) == 0.0
    assert value == drift.ks_statistic(b, a)


@given(
    st.lists(st.sampled_from("abc"), min_size=2, max_size=60),
    st.lists(st.sampled_from("abcd"), min_size=2, max_size=60),
)
def test_cramers_v_is_between_0_and_1_and_0_for_the_same_sample(a: list[str], b: list[str]) -> None:
    assert 0.0 <= drift.cramers_v(pd.Series(a), pd.Series(b)) <= 1.0 + 1e-12
    assert drift.cramers_v(pd.Series(a), pd.Series(a)) < 1e-12


@given(arrays(np.float64, st.integers(1, 30), elements=finite), st.data())
def test_skew_compare_flags_exactly_the_records_that_differ_by_any_bit(
    values: np.ndarray, data: st.DataObject
) -> None:
    changed = data.draw(st.sets(st.integers(0, len(values) - 1)))
    served = values.copy()
    for i in changed:
        served[i] = np.nextafter(served[i], np.inf)
    assert set(np.flatnonzero(skew.compare(served, values))) == changed


def test_too_few_records_is_not_judged_never_healthy(params: Params, schema: Schema, tmp_path: Path) -> None:
    # given a capture of an unknown version only, and nothing else
    records = pd.DataFrame(
        [{"request_id": "r", "git_sha": "f" * 40, "timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}]
    )
    captured = Captured(records=records, refusals=[], files=1)
    report = judge(
        captured, tmp_path, params, schema, environment=None, source="x", labels=None,
        now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), html=None,
    )  # fmt: skip
    assert not report["healthy"]
    assert not report["judged"]
    assert report["unknown_version_records"] == 1
    assert any(a["kind"] == "input" and "unknown model version" in a["detail"] for a in report["alerts"])
    assert render(report).startswith("**ALERT**")
