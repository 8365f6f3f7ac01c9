"""Hand-fused compiled loops (numba): the limit each loss's value and gradient summaries could reach.

One parallel pass over the elements computes the loss, its gradient and the gradient's summaries
(sum of squares, sum, largest magnitude) without storing any array; nothing is validated. The
result has losscli's meaning: the mean loss and the summaries of the gradient of that mean. numba
is used here, in bench/, only; losscli never depends on it.

``FUSED[name](**params)`` returns a function of the loss's input arrays giving
``(value, {"l2": ..., "abs_max": ..., "mean": ...})``. Element-wise losses are one small kernel
``(p, y) -> (value, gradient)`` each, run by :func:`elementwise`; cross_entropy has its own row loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

FUSED = {}


def fused(fn):
    FUSED[fn.__name__] = fn
    return fn


def elementwise(kernel):
    """The mean of kernel(p, y)[0] over all elements and the summaries of kernel(p, y)[1] / elements."""

    @njit(parallel=True, cache=False)
    def run(pred, target):
        p = pred.ravel()
        y = target.ravel()
        n = p.size
        value = 0.0
        squares = 0.0
        total = 0.0
        biggest = 0.0
        for i in prange(n):
            v, g = kernel(p[i], y[i])
            value += v
            squares += g * g
            total += g
            biggest = max(biggest, abs(g))
        return value / n, math.sqrt(squares) / n, biggest / n, total / n / n

    def summaries(pred, target):
        value, l2, abs_max, mean = run(np.ascontiguousarray(pred), np.ascontiguousarray(target))
        return value, {"l2": l2, "abs_max": abs_max, "mean": mean}

    return summaries


# ----------------------------------------------------------------------------- regression


@fused
def mse():
    @njit
    def kernel(p, y):
        r = p - y
        return r * r, 2.0 * r

    return elementwise(kernel)


@fused
def mae():
    @njit
    def kernel(p, y):
        r = p - y
        return abs(r), np.sign(r)

    return elementwise(kernel)


@fused
def huber(delta):
    @njit
    def kernel(p, y):
        r = p - y
        a = abs(r)
        m = min(a, delta)
        return m * (a - 0.5 * m), min(max(r, -delta), delta)

    return elementwise(kernel)


@fused
def smooth_l1(beta):
    @njit
    def kernel(p, y):
        r = p - y
        a = abs(r)
        m = min(a, beta)
        return m * (a - 0.5 * m) / beta, min(max(r / beta, -1.0), 1.0)

    return elementwise(kernel)


@fused
def log_cosh():
    @njit
    def kernel(p, y):
        r = p - y
        a = abs(r)
        # log cosh r = |r| + log1p(exp(-2|r|)) - log 2; near zero log1p(2 sinh^2(r/2)) keeps the digits
        if a <= 20.0:
            s = math.sinh(0.5 * a)
            v = math.log1p(2.0 * s * s)
        else:
            v = a + math.log1p(math.exp(-2.0 * a)) - math.log(2.0)
        return v, math.tanh(r)

    return elementwise(kernel)


@fused
def poisson(log_input, full, eps):
    assert log_input and not full

    @njit
    def kernel(p, y):
        e = math.exp(p)
        return e - y * p, e - y

    return elementwise(kernel)


# ----------------------------------------------------------------------------- binary classification


@njit
def _logit_parts(x):
    """log1p(exp(-|x|)), sigmoid(x) and sigmoid(-x) from one exp."""
    e = math.exp(-abs(x))
    near = 1.0 / (1.0 + e)
    return math.log1p(e), max(e, (1.0 if x >= 0 else 0.0)) * near, max(e, (1.0 if x < 0 else 0.0)) * near


@fused
def bce_logits(pos_weight):
    @njit
    def kernel(x, y):
        softplus, p, q = _logit_parts(x)
        value = pos_weight * y * (max(-x, 0.0) + softplus) + (1.0 - y) * (max(x, 0.0) + softplus)
        return value, (1.0 - y) * p - pos_weight * y * q

    return elementwise(kernel)


@fused
def focal(gamma, alpha, compat):
    assert compat == "torch" and alpha >= 0 and gamma >= 1

    @njit
    def kernel(x, y):
        softplus, p, q = _logit_parts(x)
        ce = y * (max(-x, 0.0) + softplus) + (1.0 - y) * (max(x, 0.0) + softplus)
        one_minus_pt = p * (1.0 - y) + q * y
        weight = alpha * y + (1.0 - alpha) * (1.0 - y)
        modulator = one_minus_pt ** gamma
        slope = gamma * one_minus_pt ** (gamma - 1.0) * (1.0 - 2.0 * y) * p * q
        return weight * modulator * ce, weight * ((p - y) * modulator + ce * slope)

    return elementwise(kernel)


# ----------------------------------------------------------------------------- margin


@njit
def _signed(t):
    """A 0/1 or -1/1 label as -1/1."""
    return t - (1.0 if t == 0.0 else 0.0)


@fused
def hinge(margin):
    @njit
    def kernel(s, t):
        y = _signed(t)
        h = margin - y * s
        return max(h, 0.0), (-y if h > 0 else 0.0)

    return elementwise(kernel)


@fused
def squared_hinge(margin):
    @njit
    def kernel(s, t):
        y = _signed(t)
        h = max(margin - y * s, 0.0)
        return h * h, -2.0 * y * h

    return elementwise(kernel)


@fused
def soft_margin():
    @njit
    def kernel(s, t):
        y = _signed(t)
        z = y * s
        softplus, _, q = _logit_parts(z)
        return max(-z, 0.0) + softplus, -y * q

    return elementwise(kernel)


# ----------------------------------------------------------------------------- multi-class


@njit(parallel=True)
def _softmax_cross_entropy(logits, classes):
    n, k = logits.shape
    value = 0.0
    squares = 0.0
    total = 0.0
    biggest = 0.0
    for i in prange(n):
        row = logits[i]
        top = row[0]
        for j in range(1, k):
            top = max(top, row[j])
        mass = 0.0
        for j in range(k):
            mass += math.exp(row[j] - top)
        log_mass = math.log(mass)
        y = int(classes[i])
        value += log_mass + top - row[y]
        for j in range(k):
            g = math.exp(row[j] - top - log_mass) - (1.0 if j == y else 0.0)
            squares += g * g
            total += g
            biggest = max(biggest, abs(g))
    return value / n, math.sqrt(squares) / n, biggest / n, total / n / (n * k)


@fused
def cross_entropy(label_smoothing, from_logits, weight, ignore_index, compat):
    assert label_smoothing == 0 and from_logits and weight is None

    def summaries(pred, target):
        assert target.ndim == 1 or target.shape[1] == 1, "index targets only"
        value, l2, abs_max, mean = _softmax_cross_entropy(np.ascontiguousarray(pred), target.reshape(-1))
        return value, {"l2": l2, "abs_max": abs_max, "mean": mean}

    return summaries
