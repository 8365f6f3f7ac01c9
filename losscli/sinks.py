"""Per-row outputs, fed a batch at a time: --per-row, --grad-out (to a file or to memory) and --top K.

A file is written to a temporary file beside its target with pyarrow's streaming CSV or Parquet
writer and renamed into place when the run succeeds, so a failure, Ctrl-C or a kill never leaves
half a file; the file gets the permissions the umask gives a new file (or those of the file it
replaces). Before any work, an output is refused if it is one of the inputs, the other output, a
folder, or in a folder that cannot be written. Row numbers count data rows from 1 across all
inputs, as error messages do.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import InputDataError, UsageProblem
from .sources import new_temporary, untrack_temporary

OUTPUT_SUFFIXES = (".csv", ".parquet", ".pq")


def check_output_path(path: str, option: str) -> None:
    """Refuse an output path we cannot write before any work is done (exit 2)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageProblem(f"{option} {path!r}: the file must end in .csv or .parquet.")
    if os.path.isdir(path):
        raise UsageProblem(f"{option} {path!r} is a folder; name a file in it, for example {os.path.join(path, 'rows.csv')}.")
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageProblem(f"{option} {path!r}: folder {str(folder)!r} does not exist.")
    try:  # the one sure test: create a file there (access() is wrong for root and on some mounts)
        probe = new_temporary(str(folder), f".{Path(path).name}.")
    except OSError as exc:
        raise UsageProblem(f"{option} {path!r}: cannot write in folder {str(folder)!r} "
                           f"({exc.strerror or exc}). Choose a folder you can write to.") from None
    untrack_temporary(probe, remove=True)


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def check_outputs(outputs: dict[str, str | None], inputs: list[str]) -> None:
    """Refuse (exit 2) an output that is an input (it would be overwritten) or the other output (one would be lost)."""
    named = {option: os.fspath(path) for option, path in outputs.items() if isinstance(path, (str, os.PathLike))}
    for option, path in named.items():
        for source in inputs:
            if _same_file(path, source):
                raise UsageProblem(f"{option} {path!r} is an input file: writing it would destroy the data being read. "
                                   "Name another file.")
    options = list(named)
    for i, first in enumerate(options):
        for second in options[i + 1:]:
            if _same_file(named[first], named[second]):
                raise UsageProblem(f"{first} and {second} name the same file ({named[first]!r}): one would overwrite "
                                   "the other. Name two files.")


def _new_file_mode(path: Path) -> int:
    """The permissions of the file being replaced, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


class RowSink:
    """Where per-row columns go, a batch at a time."""

    def write(self, table: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """The run succeeded: make the output final."""

    def abort(self) -> None:
        """The run failed: leave nothing behind."""


class FileSink(RowSink):
    """A CSV or Parquet file, written to a temporary file beside it and renamed into place on close."""

    def __init__(self, path: str, option: str = "output") -> None:
        self.path = Path(path)
        self.option = option
        self._writer = None
        self._schema = None
        self._temp: str | None = None

    def _open(self, schema: pa.Schema) -> None:
        self._temp = new_temporary(str(self.path.parent or "."), f".{self.path.name}.")
        os.chmod(self._temp, _new_file_mode(self.path))
        if self.path.suffix.lower() == ".csv":
            import pyarrow.csv as pacsv

            self._writer = pacsv.CSVWriter(self._temp, schema)
        else:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self._temp, schema)
        self._schema = schema

    def write(self, table: pa.Table) -> None:
        try:
            table = _writable(table, self.path.suffix.lower() == ".csv")
            if self._writer is None:
                self._open(table.schema)
            if table.schema != self._schema:
                table = table.cast(self._schema)
            self._writer.write_table(table)
        except OSError as exc:
            self.abort()
            raise UsageProblem(f"{self.option}: could not write {self.path}: {exc.strerror or exc}.") from None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            self.abort()
            raise InputDataError(f"{self.option}: could not write {self.path}: {exc}. The --keep columns may hold "
                                 "values of another type in another file.") from None

    def close(self) -> None:
        if self._writer is None:
            return
        try:
            self._writer.close()
            os.replace(self._temp, self.path)
        except OSError as exc:
            self.abort()
            raise UsageProblem(f"{self.option}: could not write {self.path}: {exc.strerror or exc}") from None
        untrack_temporary(self._temp)
        self._writer = self._temp = None

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # the file is being thrown away; its writer's complaint does not matter
                pass
        if self._temp:
            untrack_temporary(self._temp, remove=True)
        self._writer = self._temp = None


def _writable(table: pa.Table, csv: bool) -> pa.Table:
    """For CSV, key columns it cannot hold (vectors, structs, bytes that are not UTF-8) as their text, as the
    JSON output shows them; the row and loss columns are untouched."""
    if not csv:
        return table
    from .render.text import plain

    columns, changed = [], False
    for field, column in zip(table.schema, table.columns):
        kind = field.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind) \
                or pa.types.is_fixed_size_binary(kind):
            text = (lambda v: json.dumps(plain(v))) if pa.types.is_nested(kind) else plain
            column = pa.array([None if v is None else text(v) for v in column.to_pylist()], type=pa.string())
            changed = True
        columns.append(column)
    return pa.table(columns, names=table.schema.names) if changed else table


class MemorySink(RowSink):
    """The rows collected in memory, for the Python API."""

    def __init__(self) -> None:
        self._tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self._tables.append(table)

    def table(self) -> pa.Table:
        return pa.concat_tables(self._tables) if self._tables else pa.table({})


class TopK:
    """The k rows with the largest per-row loss seen so far (an infinite loss first of all); ties keep file order.
    NaN rows (ignored, or left out by --nan propagate) never count."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values = np.empty(0)
        self.rows = np.empty(0, dtype=np.int64)
        self.records: list[dict] = []

    def offer(self, values: np.ndarray, rows: np.ndarray, keep: pa.Table | None) -> None:
        """Per-row values of a batch and each row's 0-based number across inputs."""
        usable = np.flatnonzero(~np.isnan(values))
        if usable.size > self.k:
            # the k largest, plus any row tied with the k-th (file order then decides among them)
            kth = np.partition(values[usable], usable.size - self.k)[usable.size - self.k]
            usable = usable[values[usable] >= kth]
        if not usable.size:
            return
        candidates = np.concatenate([self.values, values[usable]])
        numbers = np.concatenate([self.rows, rows[usable]])
        order = np.lexsort((numbers, -candidates))[: self.k]
        new = [int(i) - self.values.size for i in order if i >= self.values.size]
        taken = {}
        if keep is not None and new:
            taken = dict(zip(new, keep.take(pa.array(usable[new])).to_pylist()))
        records = [self.records[i] if i < self.values.size else taken.get(int(i) - self.values.size, {})
                   for i in order]
        self.values, self.rows, self.records = candidates[order], numbers[order], records

    def rows_out(self, names: dict[str, str] | None = None) -> list[dict]:
        """The rows, worst first: row number, --keep columns (under the names plan.keep_as gives them), loss."""
        names = names or {}
        return [{"row": int(r) + 1, **{names.get(k, k): v for k, v in record.items()}, "loss": float(v)}
                for v, r, record in zip(self.values, self.rows, self.records)]
