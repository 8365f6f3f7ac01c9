"""Inputs for the box losses: random overlapping, disjoint and huge boxes.

Random continuous coordinates keep pred and target edges apart (ties are the min/max
kinks). ciou holds alpha constant in its gradient, so finite differences match it only
where the aspect term is flat: its case gives pred the target's aspect ratio (v = 0,
and v is quadratic there); tests/test_boxes.py checks the full aspect-term gradient.
"""

import numpy as np

from . import Case


def boxes(fmt: str = "xyxy", scale: float = 1.0, shift: float = 0.0, same_aspect: bool = False):
    def make(rng: np.random.Generator, n: int) -> dict:
        c = rng.uniform(0, 10, size=(n, 2))
        wh = rng.uniform(1, 5, size=(n, 2))
        pc = c + rng.normal(size=(n, 2)) + shift
        pwh = wh * rng.uniform(0.6, 1.5, size=(n, 1)) if same_aspect else rng.uniform(1, 5, size=(n, 2))
        if fmt == "xywh":
            return {"pred": np.hstack([pc, pwh]) * scale, "target": np.hstack([c, wh]) * scale}
        return {"pred": np.hstack([pc - pwh / 2, pc + pwh / 2]) * scale, "target": np.hstack([c - wh / 2, c + wh / 2]) * scale}

    return make


def cases(kind: str) -> list:
    if kind == "ciou":
        return [Case("same aspect", boxes(same_aspect=True)), Case("same aspect xywh", boxes("xywh", same_aspect=True), {"fmt": "xywh"}),
                Case("same aspect huge", boxes(scale=1e6, same_aspect=True))]
    return [Case("random", boxes()), Case("xywh", boxes("xywh"), {"fmt": "xywh"}), Case("disjoint", boxes(shift=20.0)),
            Case("huge 1e6", boxes(scale=1e6)), Case("eps 1e-3", boxes(), {"eps": 1e-3})]


CASES = {kind: cases(kind) for kind in ("iou", "giou", "diou", "ciou")}
