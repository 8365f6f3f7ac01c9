"""The time just to read the file: pyarrow reads both columns into NumPy and nothing is computed.

    python bench/read_only.py FILE.parquet
"""

import sys

import pyarrow.parquet as pq

table = pq.read_table(sys.argv[1], columns=["pred", "target"])
print(table.column("pred").to_numpy().sum() + table.column("target").to_numpy().sum())
