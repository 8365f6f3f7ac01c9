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
        self.values: pa.Array | None = None

    def __len__(self) -> int:
        return 0 if self.values is None else len(self.values)

    def ids(self, column: pa.Array) -> np.ndarray:
        import pyarrow.compute as pc

        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = column if pa.types.is_dictionary(column.type) else column.dictionary_encode()
        dictionary = encoded.dictionary
        if self.values is None:
            self.values = dictionary.slice(0, 0)
        elif dictionary.type != self.values.type:
            dictionary = dictionary.cast(self.values.type)
        known = as_numpy(pc.index_in(dictionary, value_set=self.values))
        # an index with nulls comes as floats, NaN for the values not seen before
        new = np.isnan(known) if known.dtype.kind == "f" else np.zeros(len(dictionary), dtype=bool)
        mapping = np.where(new, 0, np.nan_to_num(known)).astype(np.intp)
        if new.any():
            mapping[new] = len(self) + np.arange(int(new.sum()))
            self.values = pa.concat_arrays([self.values, dictionary.filter(from_numpy(new))])
        indices = as_numpy(encoded.indices)
        return mapping[indices]


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
