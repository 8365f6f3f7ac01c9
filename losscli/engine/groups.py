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
        # integer keys, and text keys by a 64-bit hash: the keys seen and their ids, searchable without hashing
        # every key seen again at each batch (pc.index_in does, which made a million query keys cost seconds and
        # grows with the square of the file); None for other types and after two texts shared a hash
        self._searchable: SortedIds | None = None
        self._hashed = False
        # text keys: whether every batch's texts so far came in ascending order, each above the last, and the last
        # text seen; while they do, a batch that goes on ascending is new without a search
        self._last_text: pa.Scalar | None = None
        self._texts_ascend = True

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
        """Each row's id."""
        ids, begins = self.ids_and_runs(column)
        return ids if begins is None else ids_per_row(ids, begins, len(column))

    def ids_and_runs(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
        """Each run's id and where each run of equal keys begins, when the column was encoded by runs;
        else each row's id and None."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        dictionary, indices, begins = _encoded(column)
        if not self._pieces:
            self._pieces = [dictionary.slice(0, 0)]
            self._hashed = _is_text(dictionary.type)
            if self._hashed or pa.types.is_integer(dictionary.type):
                self._searchable = SortedIds(np.int64 if self._hashed else as_numpy(dictionary).dtype)
        elif dictionary.type != self._pieces[0].type:
            dictionary = dictionary.cast(self._pieces[0].type)
        keys = None
        if self._searchable is not None:
            keys = text_hashes(dictionary) if self._hashed else as_numpy(dictionary)
            if keys is None:  # texts too long to hash here: Arrow's lookup from now on
                self._searchable = None
        if self._searchable is not None:
            mapping, new = self._searchable.find(keys, all_new=self._hashed and self._ascending_texts(dictionary))
            if self._hashed and not self._same_texts(dictionary, keys, mapping, new):
                self._searchable = None  # two texts share a hash: Arrow's lookup from now on
        if self._searchable is None:
            mapping, new = self._known_by_hash(dictionary)
        added = int(np.count_nonzero(new))
        if added == len(dictionary):  # all new (ascending query ids): no masked copies
            mapping = np.arange(self._count, self._count + added)
            self._pieces.append(dictionary)
            self._count += added
            if self._searchable is not None:
                self._searchable.add(keys, mapping)
        elif added:
            mapping[new] = self._count + np.arange(added)
            self._pieces.append(dictionary.filter(from_numpy(new)))
            self._count += added
            if self._searchable is not None:
                self._searchable.add(keys[new], mapping[new])
        return mapping[indices], begins

    def _ascending_texts(self, texts: pa.Array) -> bool:
        """Whether these texts ascend and begin above every text seen, all texts so far having done so."""
        import pyarrow.compute as pc

        if self._texts_ascend and len(texts):
            above = self._last_text is None or pc.greater(texts[0], self._last_text).as_py()
            self._texts_ascend = above and (len(texts) == 1 or pc.all(
                pc.less(texts.slice(0, len(texts) - 1), texts.slice(1))).as_py())
            if self._texts_ascend:
                self._last_text = texts[len(texts) - 1]
                return True
        return False

    def _same_texts(self, dictionary: pa.Array, hashes: np.ndarray, mapping: np.ndarray, new: np.ndarray) -> bool:
        """Whether every text found by its hash is the text seen under that id, and no two new texts share a hash."""
        import pyarrow.compute as pc

        found = ~new
        if found.any():
            seen = self.values.take(from_numpy(mapping[found].astype(np.int64)))
            if not pc.all(pc.equal(seen, dictionary.filter(from_numpy(found)))).as_py():
                return False
        return bool(np.unique(hashes[new]).size == int(new.sum()))

    def _known_by_hash(self, dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Each dictionary value's id (0 where new) and which values are new, by Arrow's hash lookup."""
        import pyarrow.compute as pc

        known = as_numpy(pc.index_in(dictionary, value_set=self.values))
        # an index with nulls comes as floats, NaN for the values not seen before
        new = np.isnan(known) if known.dtype.kind == "f" else np.zeros(len(dictionary), dtype=bool)
        return np.where(new, 0, np.nan_to_num(known)).astype(np.intp), new


class SortedIds:
    """Integer keys and their ids, searchable by binary search: the keys sorted, in buffers that double.

    Keys are sorted in when a search needs them, so keys that are known to be new (ascending text keys)
    cost no sorting until a key may come back. Keys above every key seen (ascending integer query ids)
    only extend the buffers. Others are inserted where they belong, which copies the keys seen: fine for
    the millions of keys of a file of a hundred million rows (a log-structured merge, tried, searched
    several arrays per batch and was slower at that size).
    """

    def __init__(self, dtype) -> None:
        self.keys = np.zeros(0, dtype=dtype)
        self.ids = np.zeros(0, dtype=np.intp)
        self.count = 0  # keys[:count] and ids[:count] are in use
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # added since the last search
        self.top: int | None = None  # the largest key added, pending or not

    def find(self, keys: np.ndarray, all_new: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Each key's id (0 where new) and which keys are new; ``all_new``: the caller knows them all new."""
        ids = np.zeros(keys.size, dtype=np.intp)
        # all above every key seen (ascending integer query ids, batch after batch): all new, and the keys
        # added since the last search need not be sorted in yet
        if all_new or not keys.size or self.top is None or keys.min() > self.top:
            return ids, np.ones(keys.size, dtype=bool)
        self._sort_in_pending()
        seen = self.keys[:self.count]
        place = np.minimum(np.searchsorted(seen, keys), seen.size - 1)
        found = seen[place] == keys
        ids[found] = self.ids[:self.count][place[found]]
        return ids, ~found

    def add(self, keys: np.ndarray, ids: np.ndarray) -> None:
        if keys.size:
            self.pending.append((keys, ids))
            top = keys.max()
            self.top = top if self.top is None else max(self.top, top)

    def _sort_in_pending(self) -> None:
        if not self.pending:
            return
        keys = np.concatenate([k for k, _ in self.pending])
        ids = np.concatenate([i for _, i in self.pending])
        self.pending = []
        n, more = self.count, keys.size
        if (not n or keys[0] > self.keys[n - 1]) and (keys[1:] > keys[:-1]).all():
            if n + more > self.keys.size:
                size = max(2 * self.keys.size, n + more, 1024)
                self.keys, self.ids = _grown(self.keys, n, size), _grown(self.ids, n, size)
            self.keys[n:n + more] = keys
            self.ids[n:n + more] = ids
            self.count = n + more
            return
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        at = np.searchsorted(self.keys[:n], keys)
        self.keys = np.insert(self.keys[:n], at, keys)
        self.ids = np.insert(self.ids[:n], at, ids)
        self.count = self.keys.size


def _grown(buffer: np.ndarray, used: int, size: int) -> np.ndarray:
    grown = np.empty(size, dtype=buffer.dtype)
    grown[:used] = buffer[:used]
    return grown


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
        or pa.types.is_large_binary(kind)


_HASHED_BYTES = 256  # longer texts are looked up by Arrow's hash table instead


def text_hashes(texts: pa.Array) -> np.ndarray | None:
    """A 64-bit hash of each text (its bytes and length), or None when one is longer than _HASHED_BYTES.

    A polynomial over the bytes, then splitmix64's finaliser to spread the bits. Different texts may share
    a hash, which ColumnKeys detects (it compares the texts found) and then stops using hashes.
    """
    if texts.null_count:
        return None
    width = 8 if pa.types.is_large_string(texts.type) or pa.types.is_large_binary(texts.type) else 4
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64 if width == 8 else np.int32)
    offsets = offsets[texts.offset:texts.offset + len(texts) + 1].astype(np.int64)
    data = texts.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if lengths.size else 0
    if longest > _HASHED_BYTES:
        return None
    h = lengths.astype(np.uint64) * GOLDEN
    if data.size:
        for j in range(longest):  # a loop over byte positions (at most _HASHED_BYTES), each over every text
            byte = data[np.minimum(offsets[:-1] + j, data.size - 1)].astype(np.uint64)
            # texts shorter than j + 1 bytes are left as they are, so a text's hash does not depend on its neighbours
            h = np.where(lengths > j, h * np.uint64(0x100000001B3) + byte, h)
    return mix(h).view(np.int64)


# 2^64 / golden ratio: Fibonacci hashing's multiplier, the seed of the text hash and of diff's pair hash
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of each uint64."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def run_begins(values: np.ndarray) -> np.ndarray:
    """Where each run of equal consecutive values begins."""
    new_run = np.empty(values.size, dtype=bool)
    new_run[:1] = True
    np.not_equal(values[1:], values[:-1], out=new_run[1:])
    return np.flatnonzero(new_run)


def ids_per_row(ids: np.ndarray, begins: np.ndarray, rows: int) -> np.ndarray:
    """Each row's id, from each run's id and where the runs begin (ids_and_runs' runs)."""
    return np.repeat(ids, np.diff(begins, append=rows))


def _encoded(column: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray | None]:
    """The distinct values of a column in order of first appearance, each row's index into them, and None;
    or for a column in runs of equal keys, each run's index and where each run begins.

    An integer column in runs of equal keys (a ranking file stores each query's rows together) is
    encoded one value per run: hashing every row took most of ranking_softmax's time. Equal keys in
    different runs still get one index, as Arrow encodes the runs' values.
    """
    if pa.types.is_dictionary(column.type):
        return column.dictionary, as_numpy(column.indices), None
    if pa.types.is_integer(column.type) and not column.null_count and len(column) > 1:
        values = as_numpy(column)
        starts = run_begins(values)
        if 4 * starts.size <= values.size:  # runs of 4 rows or more on average: fewer values to hash
            keys = values[starts]
            if (keys[1:] > keys[:-1]).all():  # ascending runs (sorted query ids): every run its own value, no hashing
                return from_numpy(keys), np.arange(keys.size), starts
            runs = from_numpy(keys).dictionary_encode()
            return runs.dictionary, as_numpy(runs.indices), starts
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
        """One key column's ids by runs of equal keys and where the runs begin, if it was encoded by runs;
        else each row's id and None.

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
