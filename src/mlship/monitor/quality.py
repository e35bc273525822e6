"""Data quality of served traffic: refusal rate by field, share of missing values per feature, volume per
hour. Pure functions of the captured records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Quality:
    requests: int  # answered requests (estimated from the sample rate)
    refused: int
    refused_by_field: dict[str, int]
    missing: dict[str, float]  # feature -> share of records without a value
    per_hour: dict[str, int]  # hour (UTC, ISO) -> captured records

    @property
    def refusal_rate(self) -> float:
        total = self.requests + self.refused
        return self.refused / total if total else 0.0


def measure(
    records: pd.DataFrame, features: list[str], refusals: list[tuple[dt.datetime, list[str]]]
) -> Quality:
    answered = 0
    if not records.empty and "request_id" in records.columns:
        requests = records.drop_duplicates("request_id")
        rate = (
            requests["sample_rate"]
            if "sample_rate" in requests.columns
            else pd.Series(1.0, index=requests.index)
        )
        rate = pd.to_numeric(rate, errors="coerce").fillna(1.0).clip(lower=1e-9)
        answered = round(float((1.0 / rate).sum()))
    by_field: Counter[str] = Counter(field for _, fields in refusals for field in fields)
    missing = (
        {name: float(records[name].isna().mean()) if name in records.columns else 1.0 for name in features}
        if not records.empty
        else {}
    )
    per_hour: dict[str, int] = {}
    if not records.empty:
        hours = pd.to_datetime(records["timestamp"], utc=True).dt.floor("h")
        counts = hours.value_counts().sort_index()
        per_hour = {
            pd.Timestamp(str(h)).isoformat().replace("+00:00", "Z"): int(n) for h, n in counts.items()
        }
    return Quality(answered, len(refusals), dict(sorted(by_field.items())), missing, per_hour)
