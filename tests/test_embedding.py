"""Embedding losses against torch: F.cosine_similarity, F.cosine_embedding_loss and
F.triplet_margin_loss (values and autograd), and the contrastive formula of
tfa.losses.contrastive_loss (y d^2 + (1 - y) max(margin - d, 0)^2, no 1/2) in torch ops.

torch facts relied on (ATen Distance.cpp / Loss.cpp): cosine_similarity clamps each norm
to eps separately, in place under no_grad; cosine_embedding_loss adds EPSILON = 1e-12 (a
C++ float) to the squared norms; pairwise_distance is ||x1 - x2 + eps||_p.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import torch
import torch.nn.functional as F

from losscli import compute
from losscli.errors import InputDataError
from losscli.spec import parse_spec

from .harness import named, assert_close, assert_matches_torch, ours

rng = np.random.default_rng(5)


def vectors(kind: str, n: int = 40, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    if kind == "zero and tiny":
        x[0] = 0.0  # a zero pred vector
        y[1] = 0.0  # a zero target vector
        x[2] = 0.0
        y[2] = 0.0  # both zero
        x[3] *= 1e-10  # norm below eps
        y[4] *= 1e-12
        x[5] = 3.0 * y[5]  # parallel
        x[6] = -y[6]  # opposite
    elif kind == "large":
        x *= 1e6
        y *= 1e-3
    elif kind == "single":
        x, y = x[:1], y[:1]
    return x, y


KINDS = ["random", "zero and tiny", "large", "single"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("eps", [1e-8, 1e-3, 0.5])
def test_cosine_matches_torch(kind, eps):
    x, y = vectors(kind)
    params = {} if eps == 1e-8 else {"eps": eps}
    assert_matches_torch("cosine", params, {"pred": x, "target": y},
                         lambda pred, target: (1 - F.cosine_similarity(pred, target, dim=1, eps=eps)).mean())


def test_cosine_of_zero_vector_is_one_with_torch_gradient():
    x = np.zeros((1, 3))
    y = np.array([[1.0, 2.0, 2.0]])
    value, grad = ours("cosine", {}, {"pred": x, "target": y})
    assert value == 1.0
    np.testing.assert_allclose(grad, -y / 3.0 / 1e-8, rtol=1e-15)  # -y_n / eps, as torch autograd


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("margin", [0.0, 0.4, -0.5, 1.0])
def test_cosine_embedding_matches_torch(kind, margin):
    x, y = vectors(kind)
    label = np.where(rng.uniform(size=len(x)) < 0.5, 1.0, -1.0)
    arrays = {"pred": x, "target": y, "label": label}
    params = {} if margin == 0.0 else {"margin": margin}
    assert_matches_torch("cosine_embedding", params, arrays,
                         lambda pred, target, label: F.cosine_embedding_loss(pred, target, label[:, 0], margin=margin))


TRIPLET_PARAMS = [{}, {"margin": 0.3}, {"margin": 1e-3}, {"p": 1.0}, {"p": 3.0}, {"eps": 0.0}, {"eps": 0.1},
                  {"swap": True}, {"swap": True, "p": 1.0, "margin": 2.0}, {"p": 1.5, "eps": 1e-3, "swap": True}]


def triplets(kind: str, n: int = 40, d: int = 5) -> dict:
    a, p, q = rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.normal(size=(n, d))
    if kind == "identical":  # anchor == positive == negative: only eps separates them
        p, q = a.copy(), a.copy()
        p[1] += 0.5
    elif kind == "large":
        a, p, q = a * 1e6, p * 1e6, q * 1e6
    elif kind == "single":
        a, p, q = a[:1], p[:1], q[:1]
    return {"anchor": a, "positive": p, "negative": q}


@pytest.mark.parametrize("kind", ["random", "identical", "large", "single"])
@pytest.mark.parametrize("params", TRIPLET_PARAMS, ids=[str(p) for p in TRIPLET_PARAMS])
def test_triplet_matches_torch(params, kind):
    full = {"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False, **params}

    def ref(anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=full["margin"], p=full["p"],
                                     eps=full["eps"], swap=full["swap"])

    assert_matches_torch("triplet", params, triplets(kind), ref)


def test_triplet_module_defaults_match():
    # nn.TripletMarginLoss() defaults: margin 1, p 2, eps 1e-6, swap False
    arrays = triplets("random")
    assert_matches_torch("triplet", {}, arrays, lambda anchor, positive, negative:
                         torch.nn.TripletMarginLoss()(anchor, positive, negative))


def tfa_contrastive(margin=1.0):
    def fn(pred, target):
        return (target * pred**2 + (1 - target) * torch.clamp(margin - pred, min=0) ** 2).mean()

    return fn


@pytest.mark.parametrize("margin", [1.0, 0.5, 3.0])
def test_contrastive_matches_formula(margin):
    d = rng.uniform(0, 4, size=50)
    d[0] = 0.0  # a distance of exactly 0
    y = (rng.uniform(size=50) < 0.5).astype(float)
    params = {} if margin == 1.0 else {"margin": margin}
    assert_matches_torch("contrastive", params, {"pred": d, "target": y}, tfa_contrastive(margin))
    assert_matches_torch("contrastive", params, {"pred": d, "target": rng.uniform(size=50)}, tfa_contrastive(margin))


def test_contrastive_worked_numbers():
    # hand-computed with the TFA convention (1 = similar): similar pays d^2, dissimilar (1 - d)^2 below the margin
    value, grad = ours("contrastive", {}, {"pred": [0.5, 0.5, 2.0], "target": [1.0, 0.0, 0.0]})
    assert value == pytest.approx((0.25 + 0.25 + 0.0) / 3, rel=1e-15)
    np.testing.assert_allclose(grad[:, 0], [2 * 0.5 / 3, -2 * 0.5 / 3, 0.0], rtol=1e-15)


def test_million_rows_value():
    x, y = rng.normal(size=(1_000_000, 3)), rng.normal(size=(1_000_000, 3))
    ref = (1 - F.cosine_similarity(torch.tensor(x), torch.tensor(y))).mean().item()
    assert ours("cosine", {}, {"pred": x, "target": y})[0] == pytest.approx(ref, rel=1e-9)
    q = rng.normal(size=(1_000_000, 3))
    ref = F.triplet_margin_loss(torch.tensor(x), torch.tensor(y), torch.tensor(q)).item()
    assert ours("triplet", {}, {"anchor": x, "positive": y, "negative": q})[0] == pytest.approx(ref, rel=1e-9)


# ----------------------------------------------------------------------------- through the API


def test_parquet_fixed_size_list_columns(tmp_path):
    d = 4
    x, y = rng.normal(size=(30, d)), rng.normal(size=(30, d))
    label = np.where(rng.uniform(size=30) < 0.5, 1, -1)
    data = pa.table({"pred": pa.array(list(x), type=pa.list_(pa.float64(), d)),
                     "target": pa.array(list(y), type=pa.list_(pa.float64(), d)),
                     "label": label})
    table = named(data, "emb.parquet")
    report = compute(table, [parse_spec("cosine"), parse_spec("cosine_embedding:margin=0.2")])
    tx, ty = torch.tensor(x), torch.tensor(y)
    assert_close(report.results[0].value, (1 - F.cosine_similarity(tx, ty)).mean().item(), 1e-12, "cosine")
    assert_close(report.results[1].value,
                 F.cosine_embedding_loss(tx, ty, torch.tensor(label, dtype=torch.float64), margin=0.2).item(), 1e-12,
                 "cosine_embedding")
    assert report.results[0].columns["target"] == ["target"]  # not the label column


def test_triplet_reads_list_columns_by_default_names():
    a, p, q = (rng.normal(size=(20, 3)) for _ in range(3))
    data = pa.table({name: pa.array(list(v), type=pa.list_(pa.float64(), 3))
                     for name, v in (("anchor", a), ("positive", p), ("negative", q))})
    table = named(data, "t.parquet")
    report = compute(table, [parse_spec("triplet:swap=true")])
    ref = F.triplet_margin_loss(torch.tensor(a), torch.tensor(p), torch.tensor(q), swap=True).item()
    assert_close(report.results[0].value, ref, 1e-12, "triplet from list columns")


def test_cosine_embedding_label_must_be_plus_minus_one():
    data = pa.table({"pred_0": [1.0, 0.0, 1.0], "pred_1": [0.0, 1.0, 1.0],
                     "target_0": [1.0, 1.0, 0.0], "target_1": [0.0, 1.0, 1.0], "label": [1, 0, -1]})
    table = named(data, "pairs.csv")
    with pytest.raises(InputDataError) as err:
        compute(table, [parse_spec("cosine_embedding")])
    assert "'label'" in str(err.value) and "pairs.csv row 2" in str(err.value) and "2y - 1" in str(err.value)


def test_contrastive_refuses_negative_distance_and_bad_labels():
    table = named(pa.table({"pred": [0.5, -0.1], "target": [1, 0]}), "d.csv")
    with pytest.raises(InputDataError, match="distance"):
        compute(table, [parse_spec("contrastive")])
    table = named(pa.table({"pred": [0.5, 0.1], "target": [1, -1]}), "d.csv")
    with pytest.raises(InputDataError, match=r"\(y \+ 1\) / 2"):
        compute(table, [parse_spec("contrastive")])


def test_triplet_at_the_hinge_keeps_torch_gradient():
    # margin + d(a, p) - d(a, n) = 1 + 1 - 2 = 0 exactly: torch's clamp_min passes the gradient at 0
    arrays = {"anchor": [[0.0, 0.0]], "positive": [[1.0, 0.0]], "negative": [[0.0, 2.0]]}
    assert_matches_torch("triplet", {"eps": 0.0}, arrays, lambda anchor, positive, negative:
                         F.triplet_margin_loss(anchor, positive, negative, eps=0.0))
    assert np.abs(ours("triplet", {"eps": 0.0}, arrays)[1]).sum() == 2.0


def test_cli_reads_a_parquet_vector_file(tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from losscli.cli import main

    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    path = tmp_path / "emb.parquet"
    pq.write_table(pa.table({"pred": pa.array(list(x), type=pa.list_(pa.float64(), 3)),
                             "target": pa.array(list(y), type=pa.list_(pa.float64(), 3))}), path)
    result = CliRunner().invoke(main, ["compute", "-l", "cosine", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output + result.stderr
    ref = (1 - F.cosine_similarity(torch.tensor(x), torch.tensor(y))).mean().item()
    import json

    reported = json.loads(result.stdout)["results"][0]
    assert reported["n"] == 12
    assert_close(reported["value"], ref, 1e-12, "cosine from a Parquet vector file")
