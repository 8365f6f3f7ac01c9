"""The careful hand-written script losscli is measured against: pyarrow reads both columns, whole-array NumPy
computes mse and the sigmoid focal loss (alpha 0.25, gamma 2) with their gradients, and prints the same numbers
losscli does (value, and the gradient's l2 norm, largest absolute value and mean).

    python bench/careful.py FILE.parquet
"""

import sys

import numpy as np
import pyarrow.parquet as pq

table = pq.read_table(sys.argv[1], columns=["pred", "target"])
x, y = table.column("pred").to_numpy(), table.column("target").to_numpy()
n = x.size

r = x - y
mse, mse_grad = np.mean(r * r), 2.0 * r / n

e = np.exp(-np.abs(x))
p = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # sigmoid(x)
q = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigmoid(-x), without 1 - p's cancellation
ce = np.maximum(x, 0.0) - x * y + np.log1p(e)
one_minus_pt = p * (1.0 - y) + q * y
alpha_t = 0.25 * y + 0.75 * (1.0 - y)
focal = np.mean(alpha_t * one_minus_pt**2 * ce)
focal_grad = alpha_t * ((p - y) * one_minus_pt**2 + ce * 2.0 * one_minus_pt * (1.0 - 2.0 * y) * p * q) / n

for name, value, g in (("mse", mse, mse_grad), ("focal", focal, focal_grad)):
    print(name, value, np.sqrt(np.dot(g, g)), np.abs(g).max(), g.mean())
