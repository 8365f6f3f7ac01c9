"""Sources: where rows come from. Each gives a schema and a stream of batches of the columns asked for.

Every run reads its input as batches, whatever its size: CSV, TSV and Parquet files, folders and
globs of them (read as one dataset), standard input, and in-memory tables (a pandas DataFrame, a
pyarrow Table, a dict of NumPy arrays). A small input is one batch. pyarrow does the parsing: its
streaming CSV reader is multi-threaded C++, and its Parquet reader reads only the projected
columns, one row group at a time.

A file is told by its first bytes, not only by its name: Parquet's ``PAR1``, the gzip, bzip2 and
zstd signatures (``.csv.gz`` and friends are decompressed as they are read) and a UTF-16 byte
order mark (the text is read as UTF-8 after transcoding). CSV columns are read as text, cell for
cell as the file holds them; ``validate`` turns the cells of numeric columns into numbers, so a
bad cell is named with its row wherever it is and keys such as ``02134`` keep their zeros.

A batch remembers its file and where in that file it starts, so an error can name the file's own
row numbers (1-based data rows, the header excluded).
"""

from __future__ import annotations

import atexit
import codecs
import glob
import io
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa

from .errors import InputDataError, UsageProblem, describe_rows

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
STDIN = "-"
PARQUET_MAGIC = b"PAR1"
# A CSV file is sampled this far to find its columns and the bytes a row takes; a longer header
# line (hundreds of thousands of columns) makes the sample grow up to MAX_HEADER_BYTES.
SAMPLE_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 28
# pyarrow's CSV block size is an int32 count of bytes: stay well inside it. A block must hold the
# longest row, so a file whose rows outgrow a block is read again with larger ones.
MIN_BLOCK_BYTES = 1 << 20
MAX_BLOCK_BYTES = 1 << 30
# A CSV batch holds at most this much text: its cells are text until validate parses them, and that takes
# dozens of times the block's size (3 MiB: a 30M-row file was read in 280 MiB of peak memory, and faster).
CSV_BATCH_BYTES = 3 << 20
# Headers longer than this many bytes are parsed in Python first; files of more than INFERRED_COLUMNS
# columns get types inferred for the first ones only.
WIDE_HEADER_BYTES = 1 << 16
INFERRED_COLUMNS = 20_000
SEPARATORS = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}

# Temporary files of a run (spooled standard input, outputs being written): removed at exit if the
# run did not get to remove or rename them, whatever ended it.
_TEMPORARY: set[str] = set()


def track_temporary(path: str) -> None:
    _TEMPORARY.add(path)


def untrack_temporary(path: str, remove: bool = False) -> None:
    _TEMPORARY.discard(path)
    if remove:
        Path(path).unlink(missing_ok=True)


def new_temporary(folder: str, prefix: str, suffix: str = "") -> str:
    """A new empty file (mode 0600) in ``folder``, tracked before it exists.

    A name tracked only once mkstemp had returned was left behind when Ctrl-C or a signal came in
    between; tracked first, the file is removed at exit whenever the interrupt comes. OSError (a
    folder we cannot write in) is the caller's to report.
    """
    while True:
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(8)}{suffix}")
        track_temporary(path)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another file's name (64 random bits make it all but impossible): not ours
            untrack_temporary(path)
            continue
        except OSError:
            untrack_temporary(path)
            raise
        os.close(handle)
        return path


@atexit.register
def remove_temporary_files() -> None:
    for path in list(_TEMPORARY):
        untrack_temporary(path, remove=True)


@dataclass
class Batch:
    """Some consecutive rows of one input, with the columns asked for."""

    data: pa.RecordBatch
    source: str  # the file's name for messages ("<stdin>", "<memory>")
    offset: int  # 0-based index, within its file, of this batch's first row
    first: int  # 0-based index, across all inputs, of this batch's first row
    cells: bool = False  # its text columns are a text file's cells, to be read as numbers where numbers are wanted
    kept: np.ndarray | None = None  # after rows were left out (--nan drop): each row's position in the batch as read
    numbers: dict = field(default_factory=dict, repr=False)  # columns already read as float64, by name

    @property
    def rows(self) -> int:
        return self.data.num_rows

    def positions(self, rows=None) -> np.ndarray:
        """0-based positions, in the batch as read, of these rows of the batch (all when None)."""
        rows = np.arange(self.rows) if rows is None else np.asarray(rows, dtype=np.int64).ravel()
        return rows if self.kept is None else self.kept[rows]

    def row_ids(self, rows=None) -> np.ndarray:
        """0-based row numbers across all inputs, as --per-row and --top count them."""
        return self.first + self.positions(rows)

    def locate(self, rows) -> str:
        """'preds.csv rows 3, 9' for 0-based rows of this batch."""
        return f"{self.source} {describe_rows(self.offset + self.positions(rows))}"

    def subset(self, keep: np.ndarray) -> "Batch":
        """The rows where ``keep`` is true; row numbers in messages and outputs stay those of the file."""
        index = np.flatnonzero(keep)
        return replace(self, data=self.data.filter(pa.array(keep)), kept=self.positions(index),
                       numbers={k: v[keep] for k, v in self.numbers.items()})


class Source:
    """Rows from somewhere: ``schema`` (every column) and ``batches(columns, rows)`` (only those asked for)."""

    names: list[str]
    schema: pa.Schema
    warnings: list[str]

    def batches(self, columns: list[str], batch_rows: int, text: frozenset[str] = frozenset()) -> Iterator[Batch]:
        """Batches of about ``batch_rows`` rows holding ``columns``. CSV columns are all read as text (cells);
        ``text`` names the key columns, kept for sources that would otherwise guess their types."""
        raise NotImplementedError

    def rewindable(self) -> "Source":
        """A source that can be read again (a second pass); standard input is spooled to a file for it."""
        return self

    @property
    def paths(self) -> list[str]:
        """The files read, resolved (symlinks followed): outputs must never be one of them."""
        return []

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
    fmt: "TextFormat | None" = None
    row_groups: list[int] | None = None
    offset: int = 0
    table: pa.Table | None = None

    def open(self) -> Source:
        if self.kind == "parquet":
            return ParquetSource(self.path, self.name, row_groups=self.row_groups, offset=self.offset)
        if self.kind == "csv":
            return CsvSource(self.path, self.fmt, self.name)
        return ArrowSource(self.table, self.name, offset=self.offset)


def _resolved(path: str) -> str:
    return os.path.realpath(path)


# ----------------------------------------------------------------------------- Parquet


class ParquetSource(Source):
    # a cluster partition holds a few row groups: about this many rows
    PARTITION_ROWS = 4 << 20

    def __init__(self, path: str, name: str | None = None, row_groups: list[int] | None = None, offset: int = 0) -> None:
        import pyarrow.parquet as pq

        self.path, self.names, self.row_groups, self.offset = path, [name or path], row_groups, offset
        self.warnings: list[str] = []
        try:
            parquet = pq.ParquetFile(path)
            self._metadata = parquet.metadata
            self.schema = parquet.schema_arrow
        except MemoryError:
            raise
        except Exception as exc:  # pyarrow's many complaints about a damaged file: all one answer for the user
            raise self._damaged(exc) from None

    def _damaged(self, exc: Exception) -> InputDataError:
        return InputDataError(f"{self.names[0]} could not be read as Parquet ({_reason(exc)}). The file is "
                              "truncated or damaged: write it again, and check that the program writing it finished.")

    @property
    def paths(self) -> list[str]:
        return [] if self.names[0] == StdinSource.NAME else [_resolved(self.path)]

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
        except MemoryError:
            raise
        except Exception as exc:  # see __init__
            raise self._damaged(exc) from None
        if offset == self.offset and self.row_groups is None:
            raise InputDataError(f"{name} has no rows.")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text.splitlines()[0][:300]


# ----------------------------------------------------------------------------- text files


@dataclass(frozen=True)
class TextFormat:
    """How the bytes of a delimited text file are to be read."""

    delimiter: str = ","
    compression: str | None = None  # "gzip", "bz2" or "zstd"
    encoding: str | None = None  # None for UTF-8 (with or without a byte order mark), else a UTF-16 codec

    @property
    def kind(self) -> str:
        return "TSV" if self.delimiter == "\t" else "CSV"


def compression_of(head: bytes) -> str | None:
    """The compression a stream's first bytes announce, if any."""
    if head[:3] == b"\x1f\x8b\x08":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    # "BZh", the level, then the first block's or the end-of-stream magic: a CSV starting with BZh is not enough
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    return None


def encoding_of(head: bytes, name: str) -> str | None:
    """None for UTF-8 text; the codec of UTF-16 text (told by its byte order mark or its NUL bytes); binary data refused."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    window = head[:4096]
    if b"\x00" not in window:
        return None
    even, odd = window[0::2], window[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    where = "Standard input" if name == StdinSource.NAME else name
    raise InputDataError(f"{where} holds binary data, not CSV text (a NUL byte at byte {window.index(0) + 1}). "
                         "Give a CSV, TSV or Parquet file (gzip, bzip2 or zstd compressed CSV is read too).")


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
        if self._rest is None:
            return 0
        data = self._rest.read(len(buffer))
        if isinstance(data, str):
            data = data.encode()
        buffer[: len(data)] = data
        return len(data)


class _Transcoded(io.RawIOBase):
    """The UTF-8 bytes of a stream of text in another encoding (UTF-16 from Excel and PowerShell)."""

    def __init__(self, raw, encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._done:
            chunk = self._raw.read(1 << 16)
            self._done = not chunk
            self._pending = self._decoder.decode(chunk, final=self._done).encode("utf-8")
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n


def _text_stream(raw, fmt: TextFormat):
    """A stream of UTF-8 text from the raw bytes of a file in ``fmt``."""
    stream = raw
    if fmt.compression:
        stream = pa.CompressedInputStream(raw if isinstance(raw, pa.NativeFile) else pa.PythonFile(raw, mode="r"),
                                          fmt.compression)
    if fmt.encoding:
        stream = _Transcoded(stream, fmt.encoding)
    return stream


def _read_head(stream, name: str) -> tuple[bytes, bool]:
    """The first SAMPLE_BYTES of a text stream, grown until they hold the whole header line, and whether
    they are the whole stream."""
    head = b""
    while len(head) < SAMPLE_BYTES or b"\n" not in head:
        if len(head) >= MAX_HEADER_BYTES:
            raise InputDataError(f"{name}: no line break in the first {MAX_HEADER_BYTES >> 20} MiB. "
                                 "A CSV file needs one header line and one line per row.")
        more = stream.read(max(SAMPLE_BYTES - len(head), len(head)))
        if not more:
            return head, True
        head += more.encode() if isinstance(more, str) else bytes(more)
    return head, False


class CsvSource(Source):
    """A CSV or TSV file (compressed or not, UTF-8 or UTF-16), or a CSV stream (standard input), read block by block."""

    def __init__(self, path: str, fmt: TextFormat | str = ",", name: str | None = None, stream=None,
                 sample: tuple[bytes, bool] | None = None):
        self.fmt = TextFormat(fmt) if isinstance(fmt, str) else fmt
        self.path, self.names, self._stream, self.warnings = path, [name or path], stream, []
        if not self._reopenable and stream is None:
            raise ValueError("a CsvSource of standard input needs its stream")
        if sample is None:
            stream_for_sample = self._open_stream()
            try:
                sample = _read_head(stream_for_sample, self.names[0])
            except (OSError, EOFError, pa.ArrowException, UnicodeDecodeError) as exc:
                raise self._unreadable(exc) from None
            finally:
                stream_for_sample.close()
        sample, self._complete = sample
        self._sample = sample
        if not sample.strip():
            raise InputDataError(f"{self.names[0]} is empty: it needs a header row and data rows.")
        self._header_bytes = sample.find(b"\n") + 1 or len(sample)
        self._quoted = b'"' in sample
        self.schema = self._inferred_schema()
        try:
            self.schema.names  # pyarrow keeps names that are not UTF-8; Python cannot even make them strings
        except UnicodeDecodeError:
            raise self._header_error() from None
        lines = max(1, sample.count(b"\n") - 1)
        self._row_bytes = max(8, (len(sample) - self._header_bytes) // lines)

    # -- opening

    def _open_stream(self):
        """A fresh stream of the file's UTF-8 text."""
        raw = pa.input_stream(self.path, compression=None) if self.fmt.compression else open(self.path, "rb")
        return _text_stream(raw, self.fmt)

    def _reader_input(self):
        """What open_csv reads: the path itself for plain UTF-8 files (pyarrow's fastest way), else a stream;
        None once a one-time stream (standard input) has been read."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            return stream
        if not self._reopenable:
            return None
        if self.fmt.compression or self.fmt.encoding:
            return self._open_stream()
        return self.path

    @property
    def _reopenable(self) -> bool:
        """A file can be read again; a stream (standard input before it is spooled) cannot."""
        return self.path != StdinSource.NAME

    @property
    def paths(self) -> list[str]:
        return [_resolved(self.path)] if self.names[0] != StdinSource.NAME else []

    def _unreadable(self, exc: Exception) -> InputDataError:
        fix = " (it does not decompress: is it truncated?)" if self.fmt.compression else ""
        return InputDataError(f"{self.names[0]} could not be read{fix}: {_reason(exc)}.")

    # -- the columns

    def _options(self, columns=None, types=None, block: int | None = None, safe: bool = False):
        import pyarrow.csv as pacsv

        return dict(
            read_options=pacsv.ReadOptions(block_size=int(block or max(MIN_BLOCK_BYTES, 2 * len(self._sample))),
                                           use_threads=not safe),
            parse_options=pacsv.ParseOptions(delimiter=self.fmt.delimiter, newlines_in_values=self._quoted or safe),
            convert_options=pacsv.ConvertOptions(include_columns=columns, column_types=types)
            if columns is not None else pacsv.ConvertOptions(),
        )

    def _inferred_schema(self) -> pa.Schema:
        """Column names (and the types the first rows suggest) from the sample; a sample cut mid-row loses its last line."""
        import pyarrow.csv as pacsv

        sample = self._sample
        cut = sample.rfind(b"\n")
        head = sample if cut < 0 or self._complete else sample[: cut + 1]
        try:
            names = self._header_names() if self._header_bytes > WIDE_HEADER_BYTES else None
            if names is None or len(names) <= INFERRED_COLUMNS:
                return pacsv.read_csv(io.BytesIO(head), **self._options()).schema
            # pyarrow's inference costs ~40 us a column: a 300,000-column file would take 12 s to open.
            # Only the first columns get inferred types; the others are null ("not inferred"), read as text.
            first = list(dict.fromkeys(names[:INFERRED_COLUMNS]))
            options = self._options()
            options["convert_options"] = pacsv.ConvertOptions(include_columns=first)
            inferred = pacsv.read_csv(io.BytesIO(head), **options).schema
            types = {n: inferred.field(n).type for n in first}
            return pa.schema([pa.field(n, types.get(n, pa.null())) for n in names])
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._parse_error(exc, 0, sample=head) from None

    def _header_error(self) -> InputDataError:
        return InputDataError(f"{self.names[0]}: the header line is not UTF-8 text. Save the file as UTF-8 (for "
                              "example: iconv -f latin1 -t utf-8 old.csv > new.csv), or check that it is a CSV file.")

    def _header_names(self) -> list[str]:
        """The column names of the header line, parsed as pyarrow does (quotes, doubled quotes, a UTF-8 BOM)."""
        import csv

        text = self._sample.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.fmt.delimiter, quotechar='"',
                            doublequote=True, strict=False)
        return next(reader, [])

    def _cell_type(self, name: str) -> pa.DataType:
        """Text, or bytes where the first rows hold text that is not UTF-8 (a Latin-1 key column)."""
        kind = self.schema.field(name).type
        return pa.binary() if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) else pa.string()

    # -- the rows

    @property
    def total_bytes(self) -> int | None:
        if self.path == StdinSource.NAME or self.fmt.compression or self.fmt.encoding or not os.path.isfile(self.path):
            return None
        return os.path.getsize(self.path)

    @property
    def estimated_rows(self) -> int | None:
        size = self.total_bytes
        return None if size is None else max(1, size // self._row_bytes)

    def partitions(self) -> list[Part]:
        return [Part("csv", self.names[0], self.path, fmt=self.fmt)]

    def batches(self, columns, batch_rows, text=frozenset()):
        import pyarrow.csv as pacsv

        name = self.names[0]
        block = int(min(MAX_BLOCK_BYTES, max(MIN_BLOCK_BYTES, 4 * self._header_bytes,
                                             min(CSV_BATCH_BYTES, batch_rows * self._row_bytes))))
        types = {c: self._cell_type(c) for c in columns}
        offset, safe = 0, False
        while True:
            source = self._reader_input()
            skip = offset  # rows already given by an earlier attempt
            try:
                for record in pacsv.open_csv(source, **self._options(list(columns), types, block, safe)):
                    if skip:
                        if record.num_rows <= skip:
                            skip -= record.num_rows
                            continue
                        record, skip = record.slice(skip), 0
                    if record.num_rows:
                        yield Batch(record, name, offset, offset, cells=True)
                        offset += record.num_rows
                break
            except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as exc:
                # Read again, allowing line breaks inside quotes, with blocks large enough for long rows
                # (growing until one holds the longest); only when that fails too is the file at fault.
                too_long = "straddl" in str(exc) and block < MAX_BLOCK_BYTES
                if not self._reopenable or (safe and not too_long):
                    raise self._parse_error(exc, offset, block) from None
                safe, block = True, min(MAX_BLOCK_BYTES, block * 16)
        if offset == 0:
            raise InputDataError(f"{name} has a header but no data rows.")

    def _parse_error(self, exc: Exception, offset: int, block: int | None = None,
                     sample: bytes | None = None) -> InputDataError:
        """What went wrong, in the user's terms; ``sample`` is given when the error came from reading it."""
        import re

        name, kind, message = self.names[0], self.fmt.kind, str(exc)
        ragged = re.search(r"Expected (\d+) columns, got (\d+): (.*)", message, re.S)
        if ragged:
            expected, actual, line = int(ragged.group(1)), int(ragged.group(2)), ragged.group(3)
            where = f"a row after data row {offset}"
            found = self._ragged_row(expected, sample)
            if found is not None:
                number, actual, line = found
                where = f"row {number}"
            line = line if len(line) <= 80 else line[:77] + "..."
            hint = self._separator_hint(line)
            return InputDataError(
                f"{name} {where} has {actual} fields, but the header has {expected}: {line!r}. "
                f"Fix or remove that row{hint or ' (a value holding the separator must be in double quotes)'}.")
        text = message
        if "straddling" in text or "straddles" in text:
            mib = (block or MAX_BLOCK_BYTES) >> 20
            fix = ("raise --batch-rows, or save standard input to a file and read that" if not self._reopenable
                   else "check that it is a CSV file with one row per line")
            return InputDataError(f"{name} has a row longer than {mib} MiB after data row {offset}: {fix}.")
        if "UTF8" in text or isinstance(exc, UnicodeDecodeError):
            column = self._column_of(text)
            return InputDataError(
                f"{name}{column} holds text that is not UTF-8 (after data row {offset}). Save the file as UTF-8, "
                "for example: iconv -f latin1 -t utf-8 old.csv > new.csv.")
        if self.fmt.compression and isinstance(exc, (OSError, EOFError)):
            return self._unreadable(exc)
        return InputDataError(f"{name} could not be read as {kind} after data row {offset}: {_reason(exc)}. "
                              "Check that the file is complete and well formed.")

    def _ragged_row(self, expected: int, sample: bytes | None) -> tuple[int, int, str] | None:
        """The first data row without ``expected`` fields: its number, its field count and its text.

        pyarrow's multi-threaded reader does not number rows, so the file (or the sample) is read again
        with Python's csv module, which splits records as pyarrow does; only on this error path.
        """
        import csv

        if sample is not None:
            stream = io.BytesIO(sample)
        elif self._reopenable:
            opened = self._open_stream()
            stream = opened if isinstance(opened, io.BufferedIOBase) else io.BufferedReader(_Joined(b"", opened))
        else:
            return None
        with io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="") as text:
            reader = csv.reader(text, delimiter=self.fmt.delimiter, quotechar='"', doublequote=True, strict=False)
            next(reader, None)
            number = 0
            for record in reader:
                if not record:  # pyarrow skips empty lines
                    continue
                number += 1
                if len(record) != expected:
                    return number, len(record), self.fmt.delimiter.join(record)
        return None

    def _column_of(self, message: str) -> str:
        import re

        match = re.search(r"column #(\d+)", message)
        if match and int(match.group(1)) < len(self.schema.names):
            return f" column {self.schema.names[int(match.group(1))]!r}"
        return ""

    def _separator_hint(self, line: str) -> str:
        if self.fmt.delimiter != ",":
            return ""
        for sep, word in SEPARATORS.items():
            if sep != "," and sep in line:
                return f" (if the file is {word}-separated, pass --sep '{sep}')"
        return ""


# ----------------------------------------------------------------------------- standard input


class StdinSource(Source):
    """Standard input: CSV or TSV streamed as it arrives; Parquet, which needs seeks, spooled to a temporary file.

    The format is told by the first bytes (Parquet's PAR1 magic, the compression signatures, a UTF-16 byte
    order mark; a tab and no comma on the header line is TSV).
    """

    NAME = "<stdin>"

    def __init__(self, stream, sep: str | None = None) -> None:
        self._stream, self._spooled, self.names, self.warnings = stream, None, [self.NAME], []
        head = stream.read(SAMPLE_BYTES)
        head = head.encode() if isinstance(head, str) else (head or b"")
        if not head.strip():
            raise InputDataError("Standard input is empty: pipe a CSV, TSV or Parquet file into losscli, or name a file.")
        if head[:4] == PARQUET_MAGIC:
            self._inner = ParquetSource(self._spool(_Joined(head, stream)), self.NAME)
        else:
            compression = compression_of(head)
            raw = _Joined(head, stream)
            try:
                text = _text_stream(raw, TextFormat(compression=compression))
                first = text.read(4096) if compression else head
                encoding = encoding_of(bytes(first), self.NAME)
                text = _Joined(bytes(first), text) if compression else raw
                if encoding:
                    text = _Transcoded(text, encoding)
                sample = _read_head(text, self.NAME)
            except (OSError, EOFError, pa.ArrowException, UnicodeDecodeError) as exc:
                raise InputDataError(f"Standard input could not be read: {_reason(exc)}.") from None
            first_line = sample[0].split(b"\n", 1)[0]
            delimiter = sep or ("\t" if b"\t" in first_line and b"," not in first_line else ",")
            self._inner = CsvSource(self.NAME, TextFormat(delimiter), self.NAME, stream=_Joined(sample[0], text),
                                    sample=sample)
        self.schema = self._inner.schema

    def _spool(self, stream) -> str:
        path = new_temporary(tempfile.gettempdir(), "losscli-stdin-")
        with open(path, "wb") as handle:
            while chunk := stream.read(1 << 22):
                handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
        self._spooled = path
        return path

    def rewindable(self) -> Source:
        inner = self._inner
        if isinstance(inner, CsvSource) and inner._stream is not None:
            path = self._spool(inner._stream)  # what remains, sample included, as UTF-8 text
            self._inner = CsvSource(path, TextFormat(inner.fmt.delimiter), self.NAME,
                                    sample=(inner._sample, inner._complete))
        return self

    @property
    def total_rows(self):
        return self._inner.total_rows

    def partitions(self) -> list[Part]:
        return self.rewindable()._inner.partitions()

    def batches(self, columns, batch_rows, text=frozenset()):
        return self._inner.batches(columns, batch_rows, text)

    def __del__(self) -> None:
        if getattr(self, "_spooled", None):
            untrack_temporary(self._spooled, remove=True)


# ----------------------------------------------------------------------------- several inputs


class ConcatSource(Source):
    """Several inputs read one after the other as one dataset with the same columns."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self.names = [name for s in sources for name in s.names]
        self.warnings = [w for s in sources for w in getattr(s, "warnings", [])]
        first = sources[0]
        for other in sources[1:]:
            if other.schema.names != first.schema.names:
                mine, theirs = set(first.schema.names), set(other.schema.names)
                detail = []
                if theirs - mine:
                    detail.append(f"it has {', '.join(repr(c) for c in other.schema.names if c not in mine)} "
                                  f"which {first.names[0]} lacks")
                if mine - theirs:
                    detail.append(f"it lacks {', '.join(repr(c) for c in first.schema.names if c not in theirs)}")
                if not detail:
                    detail.append("the same columns in another order")
                raise InputDataError(
                    f"{other.names[0]} does not have the columns of {first.names[0]} ({'; '.join(detail)}). "
                    f"Files read together must have the same columns in the same order: {', '.join(first.schema.names)}.")
        self.schema = first.schema

    def rewindable(self) -> Source:
        self.sources = [s.rewindable() for s in self.sources]
        return self

    def partitions(self) -> list[Part]:
        return [part for source in self.sources for part in source.partitions()]

    @property
    def paths(self) -> list[str]:
        return [p for s in self.sources for p in s.paths]

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
                yield replace(batch, first=first + batch.offset)
                rows = batch.offset + batch.rows
            first += rows


# ----------------------------------------------------------------------------- in memory


class ArrowSource(Source):
    """An in-memory pyarrow Table (a DataFrame or a dict of arrays is converted to one without copying floats)."""

    PARTITION_ROWS = 1 << 20

    def __init__(self, table: pa.Table, name: str = "<memory>", offset: int = 0) -> None:
        self.table, self.names, self.schema, self.offset = table, [name], table.schema, offset
        self.warnings: list[str] = []
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


def _data_file(path: Path) -> bool:
    """A file a folder is read for: CSV, TSV or Parquet, compressed CSV too; hidden files (ours among them) never."""
    if path.name.startswith(".") or not path.is_file():
        return False
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return bool(suffixes) and (suffixes[-1] in CSV_SUFFIXES or suffixes[-1] in PARQUET_SUFFIXES)


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; a folder stands for the CSV, TSV and Parquet files in it, a quoted glob for its matches."""
    expanded: list[str] = []
    for path in paths:
        if path == STDIN:
            expanded.append(path)
        elif os.path.isdir(path):
            try:
                inside = sorted(str(p) for p in Path(path).iterdir() if _data_file(p))
            except PermissionError:
                raise InputDataError(f"Folder {path} cannot be read: permission denied.") from None
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


def _suffixes(path: str) -> tuple[str, str | None]:
    """The format suffix of a name and its compression suffix: ('.csv', 'gzip') for data.csv.gz."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = COMPRESSION_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), compression


def open_file(path: str, sep: str | None = None) -> Source:
    """A file, told by its first bytes first and its name second."""
    if not os.path.exists(path):
        raise InputDataError(f"File not found: {path}. Check the path, or pass - to read standard input.")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except PermissionError:
        raise InputDataError(f"{path} cannot be read: permission denied. Check the file's permissions.") from None
    except OSError as exc:
        raise InputDataError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    suffix, named_compression = _suffixes(path)
    if not head:
        raise InputDataError(f"{path} is empty: it needs a header row and data rows.")
    if head[:4] == PARQUET_MAGIC:
        source = ParquetSource(path)
        if suffix not in PARQUET_SUFFIXES:
            source.warnings.append(f"{path} is a Parquet file (by its first bytes), not {suffix or 'text'}; "
                                   "it was read as Parquet.")
        return source
    compression = compression_of(head)
    if compression is None and named_compression:
        raise InputDataError(f"{path} is named as {named_compression}-compressed, but it is not: "
                             "rename it, or compress it.")
    if suffix in PARQUET_SUFFIXES:
        if compression is None and b"\x00" not in head and _looks_like_text(head):
            source = CsvSource(path, TextFormat(sep or ","))
            source.warnings.append(f"{path} is text, not Parquet (it does not start with the Parquet magic bytes "
                                   "PAR1); it was read as CSV.")
            return source
        raise InputDataError(f"{path} is not a Parquet file: it does not start with the Parquet magic bytes PAR1. "
                             "It is truncated or another kind of file: write it again.")
    if suffix not in CSV_SUFFIXES and not compression:
        raise InputDataError(f"{path}: unknown file type {suffix or '(none)'!r}. "
                             "Use .csv, .tsv, .parquet or .pq (or .csv.gz, .csv.bz2, .csv.zst).")
    fmt = TextFormat(sep or CSV_SUFFIXES.get(suffix, ","), compression)
    if compression:
        try:
            with _text_stream(pa.input_stream(path, compression=None), fmt) as stream:
                head = stream.read(4096)
        except (OSError, EOFError, pa.ArrowException) as exc:
            raise InputDataError(f"{path} could not be decompressed ({compression}): {_reason(exc)}. "
                                 "Is it truncated?") from None
        if head[:4] == PARQUET_MAGIC:
            raise InputDataError(f"{path} holds a compressed Parquet file; decompress it first.")
    encoding = encoding_of(head, path)
    return CsvSource(path, replace(fmt, encoding=encoding))


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def open_source(data, stdin=None, sep: str | None = None) -> Source:
    """A Source for what a caller gives: a path, a list of paths ('-' is standard input), a folder or glob,
    a DataFrame, a pyarrow Table, a dict of arrays, or a Source. ``sep`` sets the separator of text files."""
    if isinstance(data, Source):
        return data
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    if isinstance(data, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in data):
        if sep is not None:
            sep = separator(sep)
        paths = expand_paths([os.fspath(p) for p in data])
        if not paths:
            raise InputDataError("No input: name a CSV, TSV or Parquet file, or pipe one into standard input.")
        if paths.count(STDIN) > 1:
            raise UsageProblem("Standard input (-) is named more than once; it can be read only once.")
        sources = [StdinSource(stdin if stdin is not None else sys.stdin.buffer, sep) if p == STDIN
                   else open_file(p, sep) for p in paths]
        source = sources[0] if len(sources) == 1 else ConcatSource(sources)
        source.warnings.extend(repeated_files(paths))
        return source
    return ArrowSource(arrow_table(data))


def separator(sep: str) -> str:
    """The --sep character; a typed backslash-t or the word tab mean a tab."""
    sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
    if len(sep) != 1 or sep in '"\r\n':
        raise UsageProblem(f"--sep {sep!r}: give one character, for example --sep ';' or --sep '|' "
                           "(--sep tab for tabs).")
    return sep


def repeated_files(paths: list[str]) -> list[str]:
    """A warning for each file named twice (by any spelling: ./a.csv, a.csv, a symlink to it)."""
    seen: dict[str, str] = {}
    warnings = []
    for path in paths:
        if path == STDIN:
            continue
        key = _resolved(path)
        if key in seen:
            same = f"{seen[key]} and {path} are" if seen[key] != path else f"{path} is"
            warnings.append(f"{same} the same file, given twice: its rows are counted twice. Name each file once.")
        else:
            seen[key] = path
    return warnings
