"""Sources: where rows come from. Each gives a schema and a stream of batches of the columns asked for.

Every run reads its input as batches, whatever its size: CSV, TSV and Parquet files, folders and
globs of them (read as one dataset), standard input, and in-memory tables (a pandas DataFrame, a
pyarrow Table, a dict of NumPy arrays). A small input is one batch. pyarrow does the parsing: its
streaming CSV reader is multi-threaded C++, and its Parquet reader reads only the projected
columns, one row group at a time.

A batch remembers its file and where in that file it starts, so an error can name the file's own
row numbers (1-based data rows, the header excluded).
"""

from __future__ import annotations

import glob
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa

from .errors import InputDataError, describe_rows

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
STDIN = "-"
PARQUET_MAGIC = b"PAR1"
# A CSV file is sampled this far to infer its column types and the bytes a row takes.
SAMPLE_BYTES = 1 << 20
# pyarrow's CSV block size is an int32 count of bytes; stay well inside it.
MAX_BLOCK_BYTES = 1 << 30


@dataclass
class Batch:
    """Some consecutive rows of one input, with the columns asked for."""

    data: pa.RecordBatch
    source: str  # the file's name for messages ("<stdin>", "<memory>")
    offset: int  # 0-based index, within its file, of this batch's first row
    first: int  # 0-based index, across all inputs, of this batch's first row

    @property
    def rows(self) -> int:
        return self.data.num_rows

    def locate(self, rows) -> str:
        """'preds.csv rows 3, 9' for 0-based rows of this batch."""
        return f"{self.source} {describe_rows(self.offset + np.asarray(rows).ravel())}"


class Source:
    """Rows from somewhere: ``schema`` (every column) and ``batches(columns, rows)`` (only those asked for)."""

    names: list[str]
    schema: pa.Schema

    def batches(self, columns: list[str], batch_rows: int, text: frozenset[str] = frozenset()) -> Iterator[Batch]:
        """Batches of about ``batch_rows`` rows holding ``columns``; ``text`` columns are read as text where the
        format does not declare types (CSV), so keys such as 02134 keep their leading zeros."""
        raise NotImplementedError

    def rewindable(self) -> "Source":
        """A source that can be read again (a second pass); standard input is spooled to a file for it."""
        return self

    @property
    def total_rows(self) -> int | None:
        """The number of rows, when known before reading (Parquet metadata, in-memory tables)."""
        return None

    @property
    def total_bytes(self) -> int | None:
        return None

    @property
    def estimated_rows(self) -> int | None:
        """The rows expected, for a progress bar: exact where known, else from the file's size."""
        return self.total_rows

    def partitions(self) -> list["Part"]:
        """Picklable pieces that can be read on their own, in order (the partitions of a cluster run)."""
        raise NotImplementedError


@dataclass
class Part:
    """A piece of a source that a cluster worker opens itself: what to open, never the rows."""

    kind: str  # "parquet", "csv" or "table"
    name: str
    path: str | None = None
    delimiter: str = ","
    row_groups: list[int] | None = None
    offset: int = 0
    table: pa.Table | None = None

    def open(self) -> Source:
        if self.kind == "parquet":
            return ParquetSource(self.path, self.name, row_groups=self.row_groups, offset=self.offset)
        if self.kind == "csv":
            return CsvSource(self.path, self.delimiter, self.name)
        return ArrowSource(self.table, self.name, offset=self.offset)


# ----------------------------------------------------------------------------- files


class ParquetSource(Source):
    # a cluster partition holds a few row groups: about this many rows
    PARTITION_ROWS = 4 << 20

    def __init__(self, path: str, name: str | None = None, row_groups: list[int] | None = None, offset: int = 0) -> None:
        import pyarrow.parquet as pq

        self.path, self.names, self.row_groups, self.offset = path, [name or path], row_groups, offset
        try:
            self._metadata = pq.ParquetFile(path).metadata
            self.schema = pq.ParquetFile(path).schema_arrow
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"{self.names[0]} could not be read as Parquet: {exc}. Check that the file is complete.") from None

    @property
    def total_rows(self) -> int:
        if self.row_groups is not None:
            return sum(self._metadata.row_group(g).num_rows for g in self.row_groups)
        return self._metadata.num_rows

    @property
    def total_bytes(self) -> int | None:
        return os.path.getsize(self.path) if os.path.isfile(self.path) and self.row_groups is None else None

    def partitions(self) -> list[Part]:
        parts, groups, rows, offset = [], [], 0, 0
        for g in range(self._metadata.num_row_groups):
            groups.append(g)
            rows += self._metadata.row_group(g).num_rows
            if rows >= self.PARTITION_ROWS or g == self._metadata.num_row_groups - 1:
                parts.append(Part("parquet", self.names[0], self.path, row_groups=groups, offset=offset))
                groups, offset, rows = [], offset + rows, 0
        return parts

    def batches(self, columns, batch_rows, text=frozenset()):
        import pyarrow.parquet as pq

        name, offset = self.names[0], self.offset
        try:
            # pre_buffer off: with it on, pyarrow was seen to keep growing memory with the file
            reader = pq.ParquetFile(self.path, pre_buffer=False)
            for record in reader.iter_batches(batch_size=batch_rows, columns=list(columns), row_groups=self.row_groups):
                if record.num_rows:
                    yield Batch(record, name, offset, offset)
                    offset += record.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(f"{name} could not be read as Parquet: {exc}. Check that the file is complete.") from None
        if offset == self.offset and self.row_groups is None:
            raise InputDataError(f"{name} has no rows.")


def _inferred_schema(sample: bytes, delimiter: str, name: str) -> pa.Schema:
    """Column names and types from the first rows; a sample cut mid-row loses its last line."""
    import pyarrow.csv as pacsv

    cut = sample.rfind(b"\n")
    head = sample if cut < 0 or len(sample) < SAMPLE_BYTES else sample[: cut + 1]
    try:
        return pacsv.read_csv(io.BytesIO(head), parse_options=pacsv.ParseOptions(delimiter=delimiter)).schema
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise InputDataError(f"{name} could not be read as {kind}: {exc}. "
                             "Check that it is a delimited text file with a header row.") from None


def _csv_types(schema: pa.Schema, columns, text) -> dict[str, pa.DataType]:
    """Declared types for the columns read: text columns as strings, every other one as float64 unless it is
    boolean or text in the sample (a later block may hold 1.5 where the sample had only integers)."""
    types = {}
    for name in columns:
        kind = schema.field(name).type
        if name in text:
            types[name] = pa.string()
        elif not (pa.types.is_boolean(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            types[name] = pa.float64()
    return types


class CsvSource(Source):
    """A CSV or TSV file, or a CSV stream (standard input), read block by block."""

    def __init__(self, path: str, delimiter: str, name: str | None = None, stream=None, sample: bytes | None = None):
        self.path, self.delimiter, self.names, self._stream = path, delimiter, [name or path], stream
        if sample is None:
            with open(path, "rb") as handle:
                sample = handle.read(SAMPLE_BYTES)
        self._sample = sample
        if not sample.strip():
            raise InputDataError(f"{self.names[0]} is empty: it needs a header row and data rows.")
        self.schema = _inferred_schema(sample, delimiter, self.names[0])
        lines = max(1, sample.count(b"\n") - 1)
        self._row_bytes = max(8, len(sample) // lines)

    @property
    def total_bytes(self) -> int | None:
        return os.path.getsize(self.path) if self._stream is None and os.path.isfile(self.path) else None

    @property
    def estimated_rows(self) -> int | None:
        size = self.total_bytes
        return None if size is None else max(1, size // self._row_bytes)

    def partitions(self) -> list[Part]:
        return [Part("csv", self.names[0], self.path, delimiter=self.delimiter)]

    def batches(self, columns, batch_rows, text=frozenset()):
        import pyarrow.csv as pacsv

        name = self.names[0]
        block = int(min(MAX_BLOCK_BYTES, max(1 << 16, batch_rows * self._row_bytes)))
        options = dict(
            read_options=pacsv.ReadOptions(block_size=block),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter),
            convert_options=pacsv.ConvertOptions(include_columns=list(columns),
                                                 column_types=_csv_types(self.schema, columns, text)),
        )
        source = self.path if self._stream is None else self._stream
        if self._stream is not None:
            self._stream = None  # a stream is read once; a second pass uses the spooled file
        offset = 0
        try:
            for record in pacsv.open_csv(source, **options):
                if record.num_rows:
                    yield Batch(record, name, offset, offset)
                    offset += record.num_rows
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            kind = "TSV" if self.delimiter == "\t" else "CSV"
            raise InputDataError(f"{name} could not be read as {kind} after data row {offset}: {exc}. "
                                 "Check that the file is complete and well formed.") from None
        if offset == 0:
            raise InputDataError(f"{name} has a header but no data rows.")


class _Joined(io.RawIOBase):
    """The bytes already read from a stream, followed by the rest of it (for sniffing standard input)."""

    def __init__(self, head: bytes, rest) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        if isinstance(data, str):
            data = data.encode()
        buffer[: len(data)] = data
        return len(data)


class StdinSource(Source):
    """Standard input: CSV or TSV streamed as it arrives; Parquet, which needs seeks, spooled to a temporary file.

    The format is told by the first bytes (Parquet's PAR1 magic; a tab and no comma on the header line is TSV).
    """

    NAME = "<stdin>"

    def __init__(self, stream) -> None:
        self._stream, self._spooled, self.names = stream, None, [self.NAME]
        head = stream.read(SAMPLE_BYTES)
        head = head.encode() if isinstance(head, str) else head
        if not head.strip():
            raise InputDataError("Standard input is empty: pipe a CSV, TSV or Parquet file into losscli, or name a file.")
        if head[:4] == PARQUET_MAGIC:
            self._inner = ParquetSource(self._spool(head), self.NAME)
        else:
            first_line = head.split(b"\n", 1)[0]
            delimiter = "\t" if b"\t" in first_line and b"," not in first_line else ","
            self._inner = CsvSource(self.NAME, delimiter, self.NAME, stream=_Joined(head, stream), sample=head)
        self.schema = self._inner.schema

    def _spool(self, head: bytes) -> str:
        handle = tempfile.NamedTemporaryFile(prefix="losscli-stdin-", delete=False)
        with handle:
            handle.write(head)
            while chunk := self._stream.read(1 << 22):
                handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
        self._spooled = handle.name
        return handle.name

    def rewindable(self) -> Source:
        if isinstance(self._inner, CsvSource) and self._inner._stream is not None:
            joined = self._inner._stream
            self._stream = joined  # spool what remains, sample included
            path = self._spool(b"")
            self._inner = CsvSource(path, self._inner.delimiter, self.NAME, sample=self._inner._sample)
            del path
        return self

    @property
    def total_rows(self):
        return self._inner.total_rows

    def partitions(self) -> list[Part]:
        return self.rewindable()._inner.partitions()

    def batches(self, columns, batch_rows, text=frozenset()):
        return self._inner.batches(columns, batch_rows, text)

    def __del__(self) -> None:
        if self._spooled:
            Path(self._spooled).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- several inputs


class ConcatSource(Source):
    """Several inputs read one after the other as one dataset with the same columns."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self.names = [name for s in sources for name in s.names]
        first = sources[0]
        for other in sources[1:]:
            if other.schema.names != first.schema.names:
                raise InputDataError(
                    f"{other.names[0]} has columns {other.schema.names}, but {first.names[0]} has {first.schema.names}. "
                    "Files read together must have the same columns in the same order.")
        self.schema = first.schema

    def rewindable(self) -> Source:
        self.sources = [s.rewindable() for s in self.sources]
        return self

    def partitions(self) -> list[Part]:
        return [part for source in self.sources for part in source.partitions()]

    @property
    def total_rows(self):
        counts = [s.total_rows for s in self.sources]
        return None if None in counts else sum(counts)

    @property
    def total_bytes(self):
        sizes = [s.total_bytes for s in self.sources]
        return None if None in sizes else sum(sizes)

    @property
    def estimated_rows(self):
        counts = [s.estimated_rows for s in self.sources]
        return None if None in counts else sum(counts)

    def batches(self, columns, batch_rows, text=frozenset()):
        first = 0
        for source in self.sources:
            rows = 0
            for batch in source.batches(columns, batch_rows, text):
                yield Batch(batch.data, batch.source, batch.offset, first + batch.offset)
                rows = batch.offset + batch.rows
            first += rows


# ----------------------------------------------------------------------------- in memory


class ArrowSource(Source):
    """An in-memory pyarrow Table (a DataFrame or a dict of arrays is converted to one without copying floats)."""

    PARTITION_ROWS = 1 << 20

    def __init__(self, table: pa.Table, name: str = "<memory>", offset: int = 0) -> None:
        self.table, self.names, self.schema, self.offset = table, [name], table.schema, offset
        if table.num_rows == 0:
            raise InputDataError(f"{name} has no rows.")

    @property
    def total_rows(self) -> int:
        return self.table.num_rows

    def partitions(self) -> list[Part]:
        step = self.PARTITION_ROWS
        return [Part("table", self.names[0], table=self.table.slice(start, step), offset=self.offset + start)
                for start in range(0, self.table.num_rows, step)]

    def batches(self, columns, batch_rows, text=frozenset()):
        offset = self.offset
        for record in self.table.select(list(columns)).to_batches(max_chunksize=batch_rows):
            if record.num_rows:
                yield Batch(record, self.names[0], offset, offset)
                offset += record.num_rows


def arrow_table(data) -> pa.Table:
    """A pyarrow Table from a DataFrame, a Table or a dict of 1-D or 2-D arrays (2-D: one vector column)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, dict):
        columns = {}
        for key, value in data.items():
            if isinstance(value, (pa.Array, pa.ChunkedArray)):
                columns[key] = value
                continue
            array = np.asarray(value)
            if array.ndim == 2:
                flat = pa.array(np.ascontiguousarray(array).ravel())
                columns[key] = pa.FixedSizeListArray.from_arrays(flat, array.shape[1])
            elif array.ndim == 1:
                columns[key] = pa.array(array)
            else:
                raise InputDataError(f"Input {key!r} has {array.ndim} dimensions; give 1-D (one column) or 2-D arrays.")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InputDataError(f"The inputs have different numbers of rows: "
                                 f"{', '.join(f'{k}: {len(v)}' for k, v in columns.items())}.")
        return pa.table(columns)
    if hasattr(data, "to_arrow") and not hasattr(data, "columns"):
        return data.to_arrow()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"cannot read {type(data).__name__}: give a path, a pandas DataFrame, a pyarrow Table "
                    "or a dict of arrays")


# ----------------------------------------------------------------------------- opening


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; a folder stands for the CSV, TSV and Parquet files in it, a quoted glob for its matches."""
    expanded: list[str] = []
    for path in paths:
        if path == STDIN:
            expanded.append(path)
        elif os.path.isdir(path):
            inside = sorted(str(p) for p in Path(path).iterdir()
                            if p.is_file() and (p.suffix.lower() in CSV_SUFFIXES or p.suffix.lower() in PARQUET_SUFFIXES))
            if not inside:
                raise InputDataError(f"Folder {path} has no .csv, .tsv or .parquet files. Name the files directly or add some.")
            expanded.extend(inside)
        elif not os.path.exists(path) and any(ch in path for ch in "*?["):
            matches = sorted(glob.glob(path))
            if not matches:
                raise InputDataError(f"No file matches {path}. Check the pattern, or name the files directly.")
            expanded.extend(expand_paths(matches))
        else:
            expanded.append(path)
    return expanded


def open_file(path: str) -> Source:
    if not os.path.exists(path):
        raise InputDataError(f"File not found: {path}. Check the path, or pass - to read standard input.")
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return ParquetSource(path)
    if suffix in CSV_SUFFIXES:
        return CsvSource(path, CSV_SUFFIXES[suffix])
    raise InputDataError(f"{path}: unknown file type {suffix or '(none)'!r}. Use .csv, .tsv, .parquet or .pq.")


def open_source(data, stdin=None) -> Source:
    """A Source for what a caller gives: a path, a list of paths ('-' is standard input), a folder or glob,
    a DataFrame, a pyarrow Table, a dict of arrays, or a Source."""
    if isinstance(data, Source):
        return data
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    if isinstance(data, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in data):
        paths = expand_paths([os.fspath(p) for p in data])
        if not paths:
            raise InputDataError("No input: name a CSV, TSV or Parquet file, or pipe one into standard input.")
        sources = [StdinSource(stdin if stdin is not None else sys.stdin.buffer) if p == STDIN else open_file(p)
                   for p in paths]
        return sources[0] if len(sources) == 1 else ConcatSource(sources)
    return ArrowSource(arrow_table(data))
