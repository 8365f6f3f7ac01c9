"""Read CSV, TSV and Parquet files, folders of them, or standard input into one table.

pyarrow does the parsing: its CSV reader is multi-threaded C++ and its Parquet
reader is the reference implementation, both far faster than anything we would
write. Several inputs are read as one table with the same columns; the table
remembers where each file's rows start so that errors can name the file and
its own row numbers.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import InputDataError, describe_rows

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
STDIN = "-"


@dataclass
class Table:
    """The rows of every input, and which file each row came from."""

    data: pa.Table
    sources: list[str]
    starts: np.ndarray  # index of each source's first row in `data`

    @property
    def rows(self) -> int:
        return self.data.num_rows

    @property
    def columns(self) -> list[str]:
        return self.data.column_names

    def locate(self, rows) -> str:
        """'preds.csv rows 3, 9' for global 0-based rows, in the first file that has any."""
        rows = np.asarray(rows).ravel()
        if rows.size == 0:
            return ""
        source = int(np.searchsorted(self.starts, rows[0], side="right") - 1)
        end = self.starts[source + 1] if source + 1 < len(self.starts) else self.rows
        own = rows[(rows >= self.starts[source]) & (rows < end)] - self.starts[source]
        others = rows.size - own.size
        more = f" (and {others} more in other files)" if others else ""
        return f"{self.sources[source]} {describe_rows(own)}{more}"


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; a folder stands for the CSV, TSV and Parquet files in it, sorted by name."""
    expanded: list[str] = []
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            inside = sorted(
                str(p) for p in Path(path).iterdir()
                if p.is_file() and (p.suffix.lower() in CSV_SUFFIXES or p.suffix.lower() in PARQUET_SUFFIXES)
            )
            if not inside:
                raise InputDataError(f"Folder {path} has no .csv, .tsv or .parquet files. Name the files directly or add some.")
            expanded.extend(inside)
        else:
            expanded.append(path)
    return expanded


def read_table(paths: list[str], stdin=None) -> Table:
    """Read every path (``-`` is standard input) into one table."""
    paths = expand_paths(paths)
    if not paths:
        raise InputDataError("No input: name a CSV, TSV or Parquet file, or pipe CSV into standard input.")
    tables = []
    for path in paths:
        table = _read_one(path, stdin)
        if tables and table.column_names != tables[0].column_names:
            raise InputDataError(
                f"{path} has columns {table.column_names}, but {paths[0]} has {tables[0].column_names}. "
                "Files read together must have the same columns in the same order."
            )
        tables.append(table)
    starts = np.cumsum([0] + [t.num_rows for t in tables[:-1]])
    try:
        data = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputDataError(f"The input files have columns of different types and cannot be read as one table: {exc}") from None
    names = ["<stdin>" if p == STDIN else p for p in paths]
    return Table(data=data, sources=names, starts=starts)


def _read_one(path: str, stdin) -> pa.Table:
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        raw = stream.read()
        if isinstance(raw, str):
            raw = raw.encode()
        if not raw.strip():
            raise InputDataError("Standard input is empty: pipe a CSV file into losscli, or name a file.")
        if raw[:4] == b"PAR1":
            return _parquet(io.BytesIO(raw), "<stdin>")
        first_line = raw.split(b"\n", 1)[0]
        delimiter = "\t" if b"\t" in first_line and b"," not in first_line else ","
        return _csv(io.BytesIO(raw), "<stdin>", delimiter)
    if not os.path.exists(path):
        raise InputDataError(f"File not found: {path}. Check the path, or pass - to read standard input.")
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _parquet(path, path)
    if suffix in CSV_SUFFIXES:
        return _csv(path, path, CSV_SUFFIXES[suffix])
    raise InputDataError(f"{path}: unknown file type {suffix or '(none)'!r}. Use .csv, .tsv, .parquet or .pq.")


def _csv(source, name: str, delimiter: str) -> pa.Table:
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(source, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{name} could not be read as {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}. "
                             "Check that it is a delimited text file with a header row.") from None
    if table.num_rows == 0:
        raise InputDataError(f"{name} has a header but no data rows.")
    return table


def _parquet(source, name: str) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputDataError(f"{name} could not be read as Parquet: {exc}. Check that the file is complete.") from None
    if table.num_rows == 0:
        raise InputDataError(f"{name} has no rows.")
    return table


def iter_batches(paths: list[str], batch_rows: int):
    """Yield the inputs as Tables of at most about ``batch_rows`` rows, never holding a whole file.

    Each batch remembers its file and where it starts in it, so error messages name the
    file's own row numbers. Standard input cannot be re-read and is not streamed.
    """
    paths = expand_paths(paths)
    columns = None
    for path in paths:
        if path == STDIN:
            raise InputDataError("Standard input cannot be streamed; name the file instead, or drop --batch-rows.")
        if not os.path.exists(path):
            raise InputDataError(f"File not found: {path}. Check the path.")
        offset = 0
        for batch in _file_batches(path, batch_rows):
            if columns is None:
                columns = batch.column_names
            elif batch.column_names != columns:
                raise InputDataError(f"{path} has columns {batch.column_names}, but {paths[0]} has {columns}. "
                                     "Files read together must have the same columns in the same order.")
            # a negative start makes Table.locate report rows counted from this file's first row
            yield Table(data=batch, sources=[path], starts=np.array([-offset]))
            offset += batch.num_rows
        if offset == 0:
            raise InputDataError(f"{path} has no data rows.")


def _file_batches(path: str, batch_rows: int):
    suffix = Path(path).suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                yield pa.Table.from_batches([batch])
        elif suffix in CSV_SUFFIXES:
            import pyarrow.csv as pacsv

            # block_size is in bytes; ~64 bytes a row keeps batches near batch_rows for typical files
            read = pacsv.ReadOptions(block_size=max(1 << 14, batch_rows * 64))
            parse = pacsv.ParseOptions(delimiter=CSV_SUFFIXES[suffix])
            # Types are inferred from the first block only; a column of integers there may hold
            # 1.5 further down, so integer columns are read as float64 from the start.
            schema = pacsv.open_csv(path, read_options=read, parse_options=parse).schema
            widen = {f.name: pa.float64() for f in schema if pa.types.is_integer(f.type)}
            reader = pacsv.open_csv(path, read_options=read, parse_options=parse,
                                    convert_options=pacsv.ConvertOptions(column_types=widen))
            for batch in reader:
                if batch.num_rows:
                    yield pa.Table.from_batches([batch])
        else:
            raise InputDataError(f"{path}: unknown file type {suffix or '(none)'!r}. Use .csv, .tsv, .parquet or .pq.")
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputDataError(f"{path} could not be read: {exc}. Check that the file is complete and well formed; "
                             "a streamed CSV column must keep the type of its first rows.") from None
