"""Per-row outputs, fed a batch at a time: --per-row, --grad-out (to a file or to memory) and --top K.

A file is written to a temporary file beside its target with pyarrow's streaming CSV or Parquet
writer and renamed into place when the run succeeds, so a failure never leaves half a file. Row
numbers count data rows from 1 across all inputs, as error messages do.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import InputDataError, UsageProblem

OUTPUT_SUFFIXES = (".csv", ".parquet", ".pq")


def check_output_path(path: str, option: str) -> None:
    """Refuse an output path we cannot write before any work is done (exit 2)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageProblem(f"{option} {path!r}: the file must end in .csv or .parquet.")
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageProblem(f"{option} {path!r}: folder {str(folder)!r} does not exist.")


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

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._writer = None
        self._schema = None
        self._temp: str | None = None

    def _open(self, schema: pa.Schema) -> None:
        fd, self._temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent or ".")
        os.close(fd)
        if self.path.suffix.lower() == ".csv":
            import pyarrow.csv as pacsv

            self._writer = pacsv.CSVWriter(self._temp, schema)
        else:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(self._temp, schema)
        self._schema = schema

    def write(self, table: pa.Table) -> None:
        try:
            if self._writer is None:
                self._open(table.schema)
            elif table.schema != self._schema:
                table = table.cast(self._schema)
            self._writer.write_table(table)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OSError) as exc:
            self.abort()
            raise InputDataError(f"Could not write {self.path}: {exc}") from None

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        os.replace(self._temp, self.path)
        self._writer = self._temp = None

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # the file is being thrown away; its writer's complaint does not matter
                pass
        if self._temp:
            Path(self._temp).unlink(missing_ok=True)
        self._writer = self._temp = None


class MemorySink(RowSink):
    """The rows collected in memory, for the Python API."""

    def __init__(self) -> None:
        self._tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self._tables.append(table)

    def table(self) -> pa.Table:
        return pa.concat_tables(self._tables) if self._tables else pa.table({})


class TopK:
    """The k rows with the largest per-row loss seen so far; ties keep file order. NaN rows (ignored) never count."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values = np.empty(0)
        self.rows = np.empty(0, dtype=np.int64)
        self.records: list[dict] = []

    def offer(self, values: np.ndarray, first_row: int, keep: pa.Table | None) -> None:
        """Per-row values of a batch whose first row is ``first_row`` (0-based across inputs)."""
        usable = np.flatnonzero(~np.isnan(values))
        if usable.size > self.k:
            # the k largest, plus any row tied with the k-th (file order then decides among them)
            kth = np.partition(values[usable], usable.size - self.k)[usable.size - self.k]
            usable = usable[values[usable] >= kth]
        if not usable.size:
            return
        candidates = np.concatenate([self.values, values[usable]])
        rows = np.concatenate([self.rows, first_row + usable])
        order = np.lexsort((rows, -candidates))[: self.k]
        new = [int(i) - self.values.size for i in order if i >= self.values.size]
        taken = {}
        if keep is not None and new:
            taken = dict(zip(new, keep.take(pa.array(usable[new])).to_pylist()))
        records = [self.records[i] if i < self.values.size else taken.get(int(i) - self.values.size, {})
                   for i in order]
        self.values, self.rows, self.records = candidates[order], rows[order], records

    def rows_out(self) -> list[dict]:
        return [{"row": int(r) + 1, **record, "loss": float(v)}
                for v, r, record in zip(self.values, self.rows, self.records)]
