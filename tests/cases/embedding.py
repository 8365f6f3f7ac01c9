"""Inputs for the embedding losses: 3-wide vectors, labels and distances kept away from the hinges."""

import numpy as np

from . import Case, away_from


def pairs(d: int = 3, scale: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        return {"pred": rng.normal(size=(n, d)) * scale, "target": rng.normal(size=(n, d)) * scale}

    return make


def labelled(margin: float):
    def make(rng: np.random.Generator, n: int) -> dict:
        x1, x2 = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
        label = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0)
        cos = (x1 * x2).sum(1) / np.sqrt((x1 * x1).sum(1) * (x2 * x2).sum(1))
        label[np.abs(cos - margin) < 0.02] = 1.0  # no dissimilar pair sits on the hinge cos = margin
        return {"pred": x1, "target": x2, "label": label}

    return make


def triplets(p: float = 2.0, swap: bool = False, margin: float = 1.0):
    def dist(x, y):
        return (np.abs(x - y + 1e-6) ** p).sum(1) ** (1 / p)

    def make(rng: np.random.Generator, n: int) -> dict:
        a, pos, neg = rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
        dn = dist(a, neg)
        if swap:
            near = np.abs(dn - dist(pos, neg)) < 0.05  # keep off the min(d_an, d_pn) switch
            neg[near] = a[near] + 10.0
            dn = np.minimum(dist(a, neg), dist(pos, neg))
        hinge = np.abs(margin + dist(a, pos) - dn) < 0.05  # keep off the hinge
        neg[hinge] = a[hinge] + 10.0
        return {"anchor": a, "positive": pos, "negative": neg}

    return make


def distances(soft: bool = False, margin: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        d = away_from(rng.uniform(0.05, 2.0, size=n), [margin], gap=0.01)
        y = rng.uniform(size=n) if soft else (rng.uniform(size=n) < 0.5).astype(float)
        return {"pred": d, "target": y}

    return make


CASES = {
    "cosine": [Case("random", pairs()), Case("wide, large", pairs(d=8, scale=1e3)), Case("eps 0.5", pairs(), {"eps": 0.5})],
    "cosine_embedding": [Case("margin 0", labelled(0.0)), Case("margin 0.3", labelled(0.3), {"margin": 0.3})],
    "triplet": [Case("p 2", triplets()), Case("p 1", triplets(p=1.0), {"p": 1.0}),
                Case("p 3 swap margin 2", triplets(p=3.0, swap=True, margin=2.0), {"p": 3.0, "swap": True, "margin": 2.0})],
    "contrastive": [Case("binary", distances()), Case("soft, margin 1.5", distances(True, 1.5), {"margin": 1.5})],
}
