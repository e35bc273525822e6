"""Read the data file to adopt exactly as the pipeline will read it: every value as text, with the reader
options that ``mlship init`` writes into ``schema.yaml``.

A file is Parquet when its suffix is ``.parquet`` or ``.pq``, otherwise CSV with pandas' defaults (comma
separator, a header row, an empty field or pandas' usual markers such as ``NA`` as missing). One quirk is
detected: a first column without a name (an index written by ``DataFrame.to_csv``) is declared as the index
column, so it is dropped instead of becoming a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlship.adopt.errors import AdoptError
from mlship.data.schema import Reader, read_table

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})

#: How pandas names a column whose header is empty.
_UNNAMED = "Unnamed: 0"


@dataclass(frozen=True)
class Table:
    """The file's values as text (missing as ``NaN``) and the reader options that produce them."""

    frame: pd.DataFrame
    reader: Reader


def read_data(path: Path) -> Table:
    """The file as text with its reader options; refuses a missing, unreadable or empty file."""
    if not path.exists():
        raise AdoptError(f"{path}: no such file")
    if not path.is_file():
        raise AdoptError(f"{path}: not a file")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    reader = Reader(format="parquet") if parquet else Reader()
    kind = "Parquet" if parquet else "CSV"
    try:
        frame = read_table(path, reader)
        if not parquet and len(frame.columns) > 1 and str(frame.columns[0]) == _UNNAMED:
            reader = Reader(index_col=0)
            frame = read_table(path, reader)
    except ImportError as error:
        raise AdoptError(f"{path}: cannot read {kind}: {error}") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        # EmptyDataError and ParserError are ValueErrors; a binary file fails to decode or to parse.
        reason = " ".join(str(error).split()) or type(error).__name__
        raise AdoptError(f"{path}: unreadable as {kind}: {reason}") from None
    if frame.empty:
        raise AdoptError(f"{path}: no data rows (columns: {', '.join(map(str, frame.columns)) or 'none'})")
    return Table(frame, reader)
