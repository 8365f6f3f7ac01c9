"""Speed of losscli's engine against PyTorch's CPU losses and against just reading the file.

    python bench/bench_losses.py [--rows 1000000]

For each loss it prints the best of 3 wall-clock times of: losscli's value plus full
gradient (engine.evaluate with --grad), torch's forward plus backward on float64
tensors, and the ratio of the two; and the time for pyarrow to read the same rows
from CSV, so the loss time can be judged against the I/O that always precedes it.
Numbers depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.rows

    import torch
    import torch.nn.functional as F

    from losscli import engine
    from losscli.catalogue import CATALOGUE
    from losscli.readers import read_table

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    reg_p, reg_t = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    logit, label = rng.normal(size=(n, 1)) * 3, (rng.random((n, 1)) < 0.3).astype(float)
    k = 10
    logits, classes = rng.normal(size=(n, k)), rng.integers(0, k, size=(n, 1)).astype(float)

    cases = [
        ("mse", {"pred": reg_p, "target": reg_t}, lambda p, t: F.mse_loss(p, t)),
        ("huber", {"pred": reg_p, "target": reg_t}, lambda p, t: F.huber_loss(p, t)),
        ("mae", {"pred": reg_p, "target": reg_t}, lambda p, t: F.l1_loss(p, t)),
        ("bce_logits", {"pred": logit, "target": label}, lambda p, t: F.binary_cross_entropy_with_logits(p, t)),
        ("cross_entropy", {"pred": logits, "target": classes},
         lambda p, t: F.cross_entropy(p, t[:, 0].long())),
    ]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        np.savetxt(path, np.hstack([reg_p, reg_t]), delimiter=",", header="pred,target", comments="")
        read = best_of(lambda: read_table([str(path)]))
    print(f"{n:,} rows; reading a 2-column CSV of them with pyarrow: {read * 1e3:.1f} ms\n")
    print(f"{'loss':<15}{'losscli ms':>12}{'torch ms':>10}{'losscli/torch':>15}{'losscli/read':>14}")
    for name, arrays, torch_fn in cases:
        if name not in CATALOGUE:
            continue
        loss = CATALOGUE[name]
        params = loss.defaults()
        ours = best_of(lambda: engine.evaluate(loss, params, arrays, with_grad=True))

        def with_torch():
            p = torch.tensor(arrays["pred"], requires_grad=True)
            value = torch_fn(p, torch.tensor(arrays["target"]))
            value.backward()

        theirs = best_of(with_torch)
        print(f"{name:<15}{ours * 1e3:>12.1f}{theirs * 1e3:>10.1f}{ours / theirs:>15.2f}{ours / read:>14.2f}")


if __name__ == "__main__":
    main()
