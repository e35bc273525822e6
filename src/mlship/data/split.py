"""Stage ``split``: a seeded train/test split of the validated data, stratified by class for classifiers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlship.config import SplitConfig
from mlship.data.schema import Schema, read_processed, write_processed


def split(frame: pd.DataFrame, config: SplitConfig, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into train and test; the same frame and config always give the same split.

    ``stratify`` applies to classifiers only (a continuous target has no classes to keep in proportion).
    """
    stratify = frame[schema.target.name] if config.stratify and schema.target.is_classifier else None
    train, test = train_test_split(
        frame,
        test_size=config.test_size,
        random_state=config.seed,
        stratify=stratify,
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def run(
    config: SplitConfig, schema: Schema, validated: Path, train_path: Path, test_path: Path
) -> tuple[int, int]:
    """CLI entry: split the validated file into the train and test files."""
    train, test = split(read_processed(validated, schema), config, schema)
    write_processed(train, train_path)
    write_processed(test, test_path)
    return len(train), len(test)
