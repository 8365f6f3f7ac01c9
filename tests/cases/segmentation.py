"""Inputs for the set-level overlap losses: two classes, flattened masks (one row per pixel)."""

import numpy as np

from . import Case


def masks(logits: bool = False, soft: bool = False, classes: int = 2):
    def make(rng: np.random.Generator, n: int) -> dict:
        pred = rng.normal(size=(n, classes)) * 2 if logits else rng.uniform(0.05, 0.95, size=(n, classes))
        target = rng.uniform(size=(n, classes)) if soft else (rng.uniform(size=(n, classes)) < 0.4).astype(float)
        return {"pred": pred, "target": target}

    return make


CASES = {
    "dice": [Case("probabilities", masks()), Case("logits", masks(logits=True), {"from_logits": True}),
             Case("soft targets, smooth 0.1", masks(soft=True), {"smooth": 0.1})],
    "jaccard": [Case("probabilities", masks()), Case("logits", masks(logits=True), {"from_logits": True}),
                Case("one class, smooth 1e-3", masks(classes=1), {"smooth": 1e-3})],
    "tversky": [Case("default", masks()), Case("recall-weighted", masks(), {"alpha": 0.3, "beta": 0.7}),
                Case("logits, soft", masks(logits=True, soft=True), {"from_logits": True, "alpha": 0.8, "beta": 0.2})],
    "focal_tversky": [Case("default gamma 0.75", masks()),
                      Case("gamma 2, logits", masks(logits=True), {"gamma": 2.0, "from_logits": True}),
                      Case("gamma 1.5 alpha 0.7", masks(soft=True), {"gamma": 1.5, "alpha": 0.7, "beta": 0.3, "smooth": 0.5})],
}


def one_hot_masks(logits: bool = False, classes: int = 3):
    """Class probabilities per pixel (rows summing to 1, or logits) against one-hot masks, every class present."""
    def make(rng: np.random.Generator, n: int) -> dict:
        labels = rng.integers(0, classes, size=n)
        labels[:classes] = np.arange(min(n, classes))
        target = np.eye(classes)[labels]
        pred = rng.normal(size=(n, classes)) * 2 if logits else rng.dirichlet(np.ones(classes) * 2, size=n)
        return {"pred": pred, "target": target}

    return make


CASES.update({
    "generalized_dice": [Case("probabilities", one_hot_masks()), Case("logits", one_hot_masks(True), {"from_logits": True}),
                         Case("independent masks, smooth 0.1", masks(soft=True), {"smooth": 0.1})],
    "mcc": [Case("probabilities", masks()), Case("logits, eps 1e-3", masks(logits=True), {"from_logits": True, "eps": 1e-3}),
            Case("one column", masks(classes=1))],
})


def hinge_masks(rng: np.random.Generator, n: int) -> dict:
    # hinge errors 1 - x s kept apart (no ties in the sort) and off 0 (the relu's kink)
    target = (rng.random((n, 2)) < 0.4).astype(float)
    errors = rng.permutation(2 * n).reshape(n, 2) * 0.21 - 0.6 * n * 0.21 + 0.013
    return {"pred": (1.0 - errors) * (2 * target - 1), "target": target}


def class_maps(rng: np.random.Generator, n: int) -> dict:
    # distinct logits (no ties among a class's errors |fg - p|), every class present when n >= 3
    labels = rng.integers(0, 3, size=n)
    labels[: min(n, 3)] = np.arange(min(n, 3))
    return {"pred": rng.normal(size=(n, 3)) * 2, "target": labels.astype(float)}


CASES.update({
    "lovasz_hinge": [Case("distinct errors", hinge_masks)],
    "lovasz_softmax": [Case("logits", class_maps),
                       Case("probabilities", lambda rng, n: {**class_maps(rng, n), "pred": rng.dirichlet(np.ones(3), size=n)},
                            {"from_logits": False})],
})
