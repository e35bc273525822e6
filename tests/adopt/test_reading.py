"""The file to adopt is read as the pipeline reads it; a missing, unreadable or empty file is refused by
name, and an unnamed index column (``DataFrame.to_csv``'s default) is declared, not taken as a feature."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlship.adopt.errors import AdoptError
from mlship.adopt.reading import read_data
from mlship.data.schema import Reader


def test_plain_csv_reads_as_text_with_pandas_defaults(tmp_path: Path) -> None:
    # given a plain CSV with an empty field and pandas' usual missing marker
    path = tmp_path / "plain.csv"
    path.write_text("a,b,label\n1,x,Yes\n,NA,No\n", encoding="utf-8")
    # when it is read
    table = read_data(path)
    # then every value is text, missing values are NaN, and the reader is the plain default
    assert table.reader == Reader()
    assert table.frame.loc[0].tolist() == ["1", "x", "Yes"]
    assert table.frame.isna().sum().to_dict() == {"a": 1, "b": 1, "label": 0}


def test_an_unnamed_index_column_is_declared_and_dropped(tmp_path: Path) -> None:
    # given a CSV written with pandas' default index
    path = tmp_path / "indexed.csv"
    pd.DataFrame({"a": [1, 2], "label": ["x", "y"]}).to_csv(path)
    # when it is read
    table = read_data(path)
    # then the index is declared as the reader's index column and is not a column
    assert table.reader.index_col == 0
    assert list(table.frame.columns) == ["a", "label"]


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdoptError, match=r"absent\.csv: no such file"):
        read_data(tmp_path / "absent.csv")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdoptError, match=r"not a file"):
        read_data(tmp_path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("binary.csv", bytes(range(256)) * 4),
        ("ragged.csv", b"a,b\n1,2\n1,2,3,4,5\n"),
        ("not-parquet.parquet", b"a,b\n1,2\n"),
    ],
)
def test_an_unreadable_file_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    # given a file that is not the table it claims to be
    path = tmp_path / name
    path.write_bytes(content)
    # when it is read, then the refusal names the file and the format
    with pytest.raises(AdoptError, match=rf"{name}: (unreadable as|cannot read) (CSV|Parquet)"):
        read_data(path)


def test_a_file_without_rows_is_refused(tmp_path: Path) -> None:
    # given a CSV with a header only
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n", encoding="utf-8")
    # when it is read, then the refusal says there are no rows and lists the columns
    with pytest.raises(AdoptError, match=r"no data rows \(columns: a, b, label\)"):
        read_data(path)
