"""Group keys: each row's group as an integer id, from Arrow's dictionary encoding, never through Python strings.

Ids are given in order of first appearance across batches, so the second pass of a run (which
reads the same batches in the same order) sees the same ids. The key values live in Arrow arrays,
one per column, so a million groups cost a million values, not a million Python objects; the
results are sorted by key at the end.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..arrow import as_numpy, from_numpy
from ..errors import InputDataError
from ..sources import Batch


class ColumnKeys:
    """The distinct values of one column seen so far, numbered in order of first appearance."""

    def __init__(self) -> None:
        # the values in id order, in the pieces learned batch by batch: joined only when asked for (joining
        # at every batch copied every key seen so far, quadratic in a file of millions of queries)
        self._pieces: list[pa.Array] = []
        self._count = 0
        # integer keys only: the values seen, sorted, and their ids (the first _known_count entries of buffers
        # that grow by doubling); pc.index_in would hash every value seen so far again for each batch, which
        # made a million query keys cost seconds
        self._sorted: np.ndarray | None = None
        self._sorted_ids: np.ndarray | None = None
        self._known_count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def values(self) -> pa.Array | None:
        """Every value seen, in id order (None before the first batch)."""
        if not self._pieces:
            return None
        if len(self._pieces) > 1:
            self._pieces = [pa.concat_arrays(self._pieces)]
        return self._pieces[0]

    def ids(self, column: pa.Array) -> np.ndarray:
        return self.ids_and_runs(column)[0]

    def ids_and_runs(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
        """Each row's id, and where each run of equal keys begins when the column was encoded by runs (else None)."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        dictionary, indices, lengths = _encoded(column)
        if not self._pieces:
            self._pieces = [dictionary.slice(0, 0)]
            if pa.types.is_integer(dictionary.type):
                self._sorted = as_numpy(dictionary)[:0].copy()
                self._sorted_ids = np.zeros(0, dtype=np.intp)
        elif dictionary.type != self._pieces[0].type:
            dictionary = dictionary.cast(self._pieces[0].type)
        mapping, new = self._known(dictionary) if self._sorted is not None else self._known_by_hash(dictionary)
        if new.any():
            added = int(new.sum())
            mapping[new] = self._count + np.arange(added)
            self._pieces.append(dictionary if added == len(dictionary) else dictionary.filter(from_numpy(new)))
            self._count += added
            if self._sorted is not None:
                self._insert(as_numpy(dictionary)[new], mapping[new])
        if lengths is None:
            return mapping[indices], None
        return np.repeat(mapping[indices], lengths), np.cumsum(lengths) - lengths

    def _known_by_hash(self, dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Each dictionary value's id (0 where new) and which values are new, by Arrow's hash lookup."""
        import pyarrow.compute as pc

        known = as_numpy(pc.index_in(dictionary, value_set=self.values))
        # an index with nulls comes as floats, NaN for the values not seen before
        new = np.isnan(known) if known.dtype.kind == "f" else np.zeros(len(dictionary), dtype=bool)
        return np.where(new, 0, np.nan_to_num(known)).astype(np.intp), new

    def _known(self, dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """The same for integer keys, by binary search in the sorted values seen so far."""
        values = as_numpy(dictionary)
        known = np.zeros(values.size, dtype=np.intp)
        seen = self._sorted[:self._known_count]
        if not seen.size or not values.size or values.min() > seen[-1]:  # all above every key seen: all new
            return known, np.ones(values.size, dtype=bool)
        place = np.minimum(np.searchsorted(seen, values), seen.size - 1)
        found = seen[place] == values
        known[found] = self._sorted_ids[place[found]]
        return known, ~found

    def _insert(self, values: np.ndarray, ids: np.ndarray) -> None:
        n, more = self._known_count, values.size
        if (not n or values[0] > self._sorted[n - 1]) and (values[1:] > values[:-1]).all():
            # keys that come in ascending order (query ids of a ranking file, usually) only extend the sorted
            # values; the buffers double when full, so a file of many batches copies each key a few times
            if n + more > self._sorted.size:
                size = max(2 * self._sorted.size, n + more, 1024)
                self._sorted, self._sorted_ids = _grown(self._sorted, n, size), _grown(self._sorted_ids, n, size)
            self._sorted[n:n + more] = values
            self._sorted_ids[n:n + more] = ids
            self._known_count = n + more
            return
        order = np.argsort(values, kind="stable")
        values, ids = values[order], ids[order]
        at = np.searchsorted(self._sorted[:n], values)
        self._sorted = np.insert(self._sorted[:n], at, values)
        self._sorted_ids = np.insert(self._sorted_ids[:n], at, ids)
        self._known_count = self._sorted.size


def _grown(buffer: np.ndarray, used: int, size: int) -> np.ndarray:
    grown = np.empty(size, dtype=buffer.dtype)
    grown[:used] = buffer[:used]
    return grown


def _encoded(column: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray | None]:
    """The distinct values of a column in order of first appearance, each row's index into them, and None;
    or for a column in runs of equal keys, each run's index and the runs' lengths.

    An integer column in runs of equal keys (a ranking file stores each query's rows together) is
    encoded one value per run: hashing every row took most of ranking_softmax's time. Equal keys in
    different runs still get one index, as Arrow encodes the runs' values.
    """
    if pa.types.is_dictionary(column.type):
        return column.dictionary, as_numpy(column.indices), None
    if pa.types.is_integer(column.type) and not column.null_count and len(column) > 1:
        values = as_numpy(column)
        new_run = np.empty(values.size, dtype=bool)
        new_run[0] = True
        np.not_equal(values[1:], values[:-1], out=new_run[1:])
        starts = np.flatnonzero(new_run)
        if 4 * starts.size <= values.size:  # runs of 4 rows or more on average: fewer values to hash
            keys = values[starts]
            if (keys[1:] > keys[:-1]).all():  # ascending runs (sorted query ids): every run its own value, no hashing
                return from_numpy(keys), np.arange(keys.size), np.diff(starts, append=values.size)
            runs = from_numpy(keys).dictionary_encode()
            return runs.dictionary, as_numpy(runs.indices), np.diff(starts, append=values.size)
    encoded = column.dictionary_encode()
    return encoded.dictionary, as_numpy(encoded.indices), None


class GroupKeys:
    """Group ids of rows by one or more key columns; several columns are folded pairwise into one id."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self._keys = [ColumnKeys() for _ in columns]
        self._pairs = [ColumnKeys() for _ in columns[1:]]  # (previous id, this column's id) packed in an int64

    @property
    def count(self) -> int:
        return len(self._pairs[-1]) if self._pairs else len(self._keys[0])

    def ids(self, batch: Batch) -> np.ndarray:
        return self.ids_of([batch.data.column(c) for c in self.columns], batch)

    def ids_and_runs(self, batch: Batch) -> tuple[np.ndarray, np.ndarray | None]:
        """One key column's ids, and where its runs of equal keys begin if it was encoded by runs (else None).

        Missing keys are the caller's to refuse (the query column has its own message)."""
        (name,) = self.columns
        return self._keys[0].ids_and_runs(batch.data.column(name))

    def ids_of(self, arrays: list[pa.Array], batch: Batch | None = None) -> np.ndarray:
        for name, column in zip(self.columns, arrays):
            if column.null_count:
                rows = np.nonzero(as_numpy(column.is_null()))[0]
                where = batch.locate(rows) if batch is not None else f"{rows.size} rows"
                raise InputDataError(f"--group-by column {name!r} has missing values at {where}. "
                                     "Fill them or drop those rows.")
        ids = self._keys[0].ids(arrays[0])
        for j in range(1, len(self.columns)):
            packed = (ids.astype(np.int64) << 32) | self._keys[j].ids(arrays[j]).astype(np.int64)
            ids = self._pairs[j - 1].ids(from_numpy(packed))
        return ids

    def table(self) -> pa.Table:
        """The key values of every group, in id order."""
        ids = np.arange(self.count)
        value_ids = [None] * len(self.columns)
        for j in range(len(self.columns) - 1, 0, -1):
            packed = as_numpy(self._pairs[j - 1].values)[ids]
            value_ids[j], ids = packed & 0xFFFFFFFF, packed >> 32
        value_ids[0] = ids
        empty = pa.nulls(0)
        return pa.table({name: (keys.values if keys.values is not None else empty).take(
            from_numpy(np.asarray(v, dtype=np.int64))) for name, keys, v in zip(self.columns, self._keys, value_ids)})

    def remap(self, other: "GroupKeys") -> np.ndarray:
        """This object's ids for the groups of ``other`` (which it learns), for merging partitions."""
        table = other.table()
        return self.ids_of([table.column(c).combine_chunks() for c in self.columns])

    def sorted(self) -> tuple[np.ndarray, list[dict]]:
        """Group ids in key order, and each group's key values (Python objects) in that order."""
        import pyarrow.compute as pc

        table = self.table()
        order = as_numpy(pc.sort_indices(table, sort_keys=[(c, "ascending") for c in self.columns]))
        return order, table.take(from_numpy(order)).to_pylist()
