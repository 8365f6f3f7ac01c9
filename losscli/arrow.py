"""Arrow arrays and NumPy arrays into each other, straight through their buffers.

pyarrow's ``Array.to_numpy`` and ``pa.array`` convert through its pandas machinery, which imports
pandas: a third of a second on every run, whatever the input's size. Fixed-width arrays need none
of it: their values buffer already is the NumPy array, so it is viewed without a copy (read-only,
as ``to_numpy`` gives it too), and a NumPy array is wrapped as the values buffer of an Arrow one.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def as_numpy(array) -> np.ndarray:
    """A fixed-width array's values: float64 (NaN where null) for numbers with nulls, the array's own
    type otherwise, bool for a boolean array without nulls. Other types fall back to ``to_numpy``.

    pyarrow.compute is imported only where a cast is needed: importing it takes about 50 ms, several percent of
    a 10M-row run whose columns are float64 without nulls."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    if pa.types.is_boolean(kind):  # nulls read as False
        import pyarrow.compute as pc

        values = _view(pc.cast(array, pa.uint8())).astype(bool)
        return values & _valid(array) if array.null_count else values
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if array.null_count:
            import pyarrow.compute as pc

            values = _view(pc.cast(array, pa.float64())).copy()
            values[~_valid(array)] = np.nan
            return values
        return _view(array)
    return array.to_numpy(zero_copy_only=False)


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-D NumPy array of numbers or booleans as an Arrow array, without a copy for numbers."""
    values = np.ascontiguousarray(values)
    if values.dtype == bool:  # Arrow's booleans are bits: made from bytes
        import pyarrow.compute as pc

        return pc.cast(from_numpy(values.view(np.uint8)), pa.bool_())
    kind = next(k for k, d in _DTYPES.items() if np.dtype(d) == values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _valid(array: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return _view(pc.cast(array.is_valid(), pa.uint8())).astype(bool)


_DTYPES = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
           pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
           pa.float16(): np.float16, pa.float32(): np.float32, pa.float64(): np.float64}


def _view(array: pa.Array) -> np.ndarray:
    dtype = np.dtype(_DTYPES[array.type])  # not type.to_pandas_dtype(): that imports pandas too
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)
