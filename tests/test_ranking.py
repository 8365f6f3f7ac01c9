"""Learning-to-rank losses against their libraries, query by query.

References, transcribed from their sources (read for semantics; the oracles below are our own):
- optax.losses.ranking_softmax_loss (optax/losses/_ranking.py): loss = -sum(labels * log_softmax(logits)),
  labels not normalised, reduce_fn=jnp.mean over lists. Its docstring: scores [2, 1, 3], labels [1, 0, 0]
  give 1.408 and gradient [-0.755, 0.09, 0.665].
- rax.pairwise_logistic_loss (rax/_src/losses.py): sum_i sum_j I[y_i > y_j] log(1 + exp(-(s_i - s_j))), reduce_fn=sum.
- LightGBM LambdarankNDCG::CalculatePairwiseLambdas (src/objective/rank_objective.hpp): scores sorted with
  std::stable_sort descending; pairs (i, j), i < j in that order, i < truncation_level (default 30), labels
  different; delta NDCG = (gain_high - gain_low) |discount(i) - discount(j)| / maxDCG@k, discount(r) =
  1 / log2(2 + r), gain = 2^label - 1 (DCGCalculator::DefaultLabelGain); p_lambda = 1 / (1 + exp(sigmoid *
  delta_score)); lambda_high += -sigmoid * delta NDCG * p_lambda, lambda_low -= the same. With
  lambdarank_norm=false these lambdas are the gradient of sum |delta NDCG| log(1 + exp(-sigmoid delta_score)).
- sklearn.metrics.ndcg_score (installed; called directly), ignore_ties=False.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from sklearn.metrics import ndcg_score

import losscli
from losscli.cli import main

from .harness import assert_close, assert_matches_torch, ours

rng = np.random.default_rng(12)


def ranking_data(queries: int = 6, size=(2, 9), grades: int = 4, scale: float = 1.0):
    sizes = rng.integers(size[0], size[1] + 1, size=queries)
    query = np.repeat(np.arange(queries), sizes)
    order = rng.permutation(query.size)  # rows of a query scattered through the table
    n = query.size
    return {"pred": rng.normal(size=n) * scale, "target": rng.integers(0, grades, size=n).astype(float),
            "query": query[order]}


def per_query_mean(fn):
    """A torch oracle: the mean over queries of fn(scores, labels) on each query's rows."""
    def oracle(pred, target, query):
        values = [fn(pred[query == q, 0], target[query == q, 0]) for q in np.unique(query)]
        return torch.stack(values).mean()

    return oracle


# ----------------------------------------------------------------------------- ranking softmax (optax)


def test_ranking_softmax_docstring_example_of_optax():
    value, grad = ours("ranking_softmax", {}, {"pred": [2.0, 1.0, 3.0], "target": [1.0, 0.0, 0.0], "query": [0, 0, 0]})
    assert round(value, 3) == 1.408
    np.testing.assert_allclose(np.round(grad.ravel(), 3), [-0.755, 0.09, 0.665])


@pytest.mark.parametrize("scale", [1.0, 50.0, 1e4])
def test_ranking_softmax_matches_torch(scale):
    data = ranking_data(scale=scale)
    assert_matches_torch("ranking_softmax", {}, data,
                         per_query_mean(lambda s, y: -(y * torch.log_softmax(s, dim=0)).sum()))


def test_ranking_softmax_of_one_row_queries_is_zero():
    # a lone row has softmax 1: it costs nothing and gets no gradient, whatever its score and relevance
    # (it once counted log 2 per relevance unit: the winner's exp was taken as the mass of the other rows)
    value, grad = ours("ranking_softmax", {}, {"pred": [0.3, 1.0, 2.0, -7.0], "target": [1.0, 1.0, 0.0, 3.0],
                                               "query": [0, 1, 1, 2]})
    pair = -np.log(np.exp(1.0) / (np.exp(1.0) + np.exp(2.0)))
    assert value == pytest.approx(pair / 3, rel=1e-14)
    assert grad.ravel()[0] == 0.0 and grad.ravel()[3] == 0.0
    assert_matches_torch("ranking_softmax", {}, ranking_data(queries=12, size=(1, 3)),
                         per_query_mean(lambda s, y: -(y * torch.log_softmax(s, dim=0)).sum()))


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_ranking_softmax_with_tied_maximum_scores_matches_torch(scale):
    # scores from three values, so most queries have two or more rows tied at their maximum (each tied row's
    # exp is 1 and adds to the normaliser), and one query has every score equal
    data = ranking_data(queries=40, size=(2, 9))
    data["pred"] = rng.integers(0, 3, size=data["pred"].size) * scale
    data["pred"][data["query"] == 0] = 2.0 * scale
    assert_matches_torch("ranking_softmax", {}, data,
                         per_query_mean(lambda s, y: -(y * torch.log_softmax(s, dim=0)).sum()))


def test_ranking_softmax_of_more_queries_of_one_size_than_a_block_of_its_copies_matches_torch():
    # the kernel copies scores into (rows, queries) arrays 512 queries at a time: 1500 queries take three blocks
    q, m = 1500, 6
    data = {"pred": rng.normal(size=q * m), "target": rng.integers(0, 4, size=q * m).astype(float),
            "query": np.repeat(np.arange(q), m)}

    def softmax(pred, target, query):
        return -(target.reshape(q, m) * torch.log_softmax(pred.reshape(q, m), dim=1)).sum(dim=1).mean()

    assert_matches_torch("ranking_softmax", {}, data, softmax)


# ----------------------------------------------------------------------------- pairwise logistic (rax)


@pytest.mark.parametrize("sigma", [1.0, 0.3, 4.0])
def test_pairwise_logistic_matches_torch(sigma):
    data = ranking_data()

    def rax(s, y):
        diff = sigma * (s[:, None] - s[None, :])
        better = y[:, None] > y[None, :]
        return torch.where(better, torch.nn.functional.softplus(-diff), torch.zeros_like(diff)).sum()

    assert_matches_torch("pairwise_logistic", {} if sigma == 1.0 else {"sigma": sigma}, data, per_query_mean(rax))


def test_pairwise_logistic_of_huge_score_gaps_is_finite():
    value, grad = ours("pairwise_logistic", {}, {"pred": [1e4, -1e4, 0.0], "target": [0.0, 1.0, 2.0], "query": [1, 1, 1]})
    # pairs (2 over 1): softplus(-(0 + 1e4)) ~ 0; (2 over 0) and (1 over 0): 1e4 and 2e4
    assert value == pytest.approx(3e4, rel=1e-12)
    assert np.all(np.isfinite(grad))


# ----------------------------------------------------------------------------- lambdarank (LightGBM)


def lightgbm_lambdas(scores, labels, k=30, sigma=1.0):
    """CalculatePairwiseLambdas of LightGBM, lambdarank_norm=false, with an exact sigmoid; also the loss value."""
    n = len(scores)
    order = sorted(range(n), key=lambda i: -scores[i])  # Python's sort is stable, as std::stable_sort
    gains = [2.0 ** int(v) - 1.0 for v in labels]
    ideal = sorted(labels, reverse=True)[:k]
    max_dcg = sum((2.0 ** int(v) - 1.0) / np.log2(2.0 + r) for r, v in enumerate(ideal))
    inverse = 1.0 / max_dcg if max_dcg > 0 else 0.0
    lambdas, loss = np.zeros(n), 0.0
    for i in range(min(n - 1, k)):
        for j in range(i + 1, n):
            a, b = order[i], order[j]
            if labels[a] == labels[b]:
                continue
            (high, rank_high), (low, rank_low) = ((a, i), (b, j)) if labels[a] > labels[b] else ((b, j), (a, i))
            delta_score = scores[high] - scores[low]
            delta_ndcg = (gains[high] - gains[low]) * abs(1 / np.log2(2 + rank_high) - 1 / np.log2(2 + rank_low)) * inverse
            p = np.exp(-np.logaddexp(0.0, sigma * delta_score))  # 1 / (1 + exp(sigma delta)), without overflow
            lambdas[high] += -sigma * delta_ndcg * p
            lambdas[low] -= -sigma * delta_ndcg * p
            loss += delta_ndcg * np.logaddexp(0.0, -sigma * delta_score)
    return loss, lambdas


@pytest.mark.parametrize("params", [{}, {"k": 3}, {"k": 1, "sigma": 2.0}, {"sigma": 0.5}])
def test_lambdarank_value_and_gradient_are_lightgbms(params):
    data = ranking_data(queries=5, size=(1, 12), grades=5)
    value, grad = ours("lambdarank", params, data)
    values = []
    expected_grad = np.zeros(len(data["pred"]))
    for q in np.unique(data["query"]):
        rows = np.flatnonzero(data["query"] == q)
        loss, lambdas = lightgbm_lambdas(list(data["pred"][rows]), list(data["target"][rows]), **params)
        values.append(loss)
        expected_grad[rows] = lambdas / len(np.unique(data["query"]))  # mean over queries
    assert_close(value, np.mean(values), 1e-12, "lambdarank value vs LightGBM transcription")
    assert_close(grad.ravel(), expected_grad, 1e-10, "lambdarank gradient vs LightGBM lambdas")


def test_lambdarank_ties_keep_input_order_and_all_zero_labels_cost_nothing():
    # tied scores: LightGBM's stable sort puts the earlier row first
    data = {"pred": [1.0, 1.0, 0.5, 2.0, 2.0], "target": [0.0, 2.0, 1.0, 0.0, 0.0], "query": [7, 7, 7, 8, 8]}
    value, grad = ours("lambdarank", {}, data)
    loss, lambdas = lightgbm_lambdas([1.0, 1.0, 0.5], [0.0, 2.0, 1.0])
    assert value == pytest.approx(loss / 2, rel=1e-12)  # query 8 has labels all 0: loss 0, still a query
    np.testing.assert_allclose(grad.ravel(), np.r_[lambdas, 0.0, 0.0] / 2, rtol=1e-12)


def test_lambdarank_refuses_fractional_or_large_grades():
    with pytest.raises(losscli.errors.InputDataError, match="integer grades from 0 to 30"):
        losscli.get("lambdarank").value([1.0, 2.0], [0.5, 1.0], query=[1, 1])


# ----------------------------------------------------------------------------- 1 - NDCG (scikit-learn)


@pytest.mark.parametrize("k", [None, 1, 3, 10])
@pytest.mark.parametrize("ties", [False, True])
def test_ndcg_loss_is_one_minus_sklearn_ndcg_score(k, ties):
    queries, size = 7, 6
    scores = rng.normal(size=(queries, size))
    if ties:
        scores = np.round(scores)  # many tied scores: sklearn averages over their orders
    relevance = rng.integers(0, 4, size=(queries, size)).astype(float)
    relevance[2] = 0.0  # a query with nothing relevant: NDCG 0 in sklearn
    query = np.repeat(np.arange(queries), size)
    order = rng.permutation(query.size)
    data = {"pred": scores.ravel()[order], "target": relevance.ravel()[order], "query": query[order]}
    value, grad = ours("ndcg_loss", {} if k is None else {"k": k}, data)
    assert value == pytest.approx(1.0 - ndcg_score(relevance, scores, k=k), rel=1e-12, abs=1e-15)
    assert not grad.any()
    per_query = losscli.get("ndcg_loss", k=k).per_row(data["pred"], data["target"], query=data["query"])
    first_seen = pd.unique(data["query"])
    expected = [1.0 - ndcg_score(relevance[[q]], scores[[q]], k=k) if relevance[q].any() else 1.0 for q in first_seen]
    np.testing.assert_allclose(per_query, expected, rtol=1e-12, atol=1e-15)


def test_ndcg_loss_of_one_row_queries():
    value = losscli.get("ndcg_loss").value([0.3, -2.0], [2.0, 0.0], query=["a", "b"])
    assert value == pytest.approx(0.5)  # a relevant lone row is ranked perfectly; an irrelevant one scores NDCG 0


# ----------------------------------------------------------------------------- the query engine


def _scattered_files(tmp_path, frame: pd.DataFrame, pieces: int = 3):
    """The frame's rows shuffled and cut into several Parquet files (each query's rows in several files)."""
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    folder = tmp_path / "scattered"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(shuffled)), pieces)):
        pq.write_table(pa.Table.from_pandas(shuffled.iloc[part], preserve_index=False), folder / f"part{i}.parquet",
                       row_group_size=17)
    return folder


@pytest.mark.parametrize("batch_rows", [10**6, 13])
def test_query_value_is_the_same_whether_rows_are_together_or_scattered(tmp_path, batch_rows):
    queries = 40
    sizes = rng.integers(1, 15, size=queries)
    query = np.repeat([f"q{i:03d}" for i in range(queries)], sizes)
    n = query.size
    frame = pd.DataFrame({"qid": query, "pred": rng.normal(size=n), "target": rng.integers(0, 4, size=n).astype(float),
                          "w": np.repeat(rng.uniform(0.5, 2.0, size=queries), sizes),
                          "g": np.repeat(rng.choice(["x", "y"], size=queries), sizes)})
    together = tmp_path / "together.csv"
    frame.to_csv(together, index=False)
    scattered = _scattered_files(tmp_path, frame)
    losses = ["ranking_softmax", "pairwise_logistic", "lambdarank:k=5", "ndcg_loss:k=3"]
    options = dict(query="qid", weight="w", group_by="g", grad=True)
    a = losscli.compute(str(together), losses, **options)
    # batch_rows=13 spills rows to partition files and splits partitions again (the budget is 26 rows)
    b = losscli.compute(str(scattered), losses, batch_rows=batch_rows, **options)
    assert [(r.label, r.group, r.n) for r in a.results] == [(r.label, r.group, r.n) for r in b.results]
    assert a.results[0].n == queries
    for x, y in zip(a.results, b.results):
        assert y.value == pytest.approx(x.value, rel=1e-12)
        for key in ("l2", "abs_max"):
            assert y.grad[key] == pytest.approx(x.grad[key], rel=1e-12)
        assert y.grad["mean"] == pytest.approx(x.grad["mean"], rel=1e-9, abs=1e-12 * x.grad["abs_max"])


def test_per_row_has_one_row_per_query_and_grad_out_one_per_row(tmp_path):
    data = ranking_data(queries=4, size=(3, 6))
    frame = pd.DataFrame({"qid": np.array(["b", "a", "d", "c"])[data["query"]], "pred": data["pred"],
                          "target": data["target"]})
    path = tmp_path / "lists.csv"
    frame.to_csv(path, index=False)
    rows, grads = tmp_path / "q.csv", tmp_path / "g.parquet"
    result = CliRunner().invoke(main, ["compute", "-l", "ranking_softmax", "-l", "lambdarank", "--query", "qid",
                                       "--per-row", str(rows), "--grad-out", str(grads), "--top", "2", "-f", "json",
                                       "--batch-rows", "4", str(path)])
    assert result.exit_code == 0, result.output
    per_query = pd.read_csv(rows)
    assert list(per_query.columns) == ["qid", "rows", "ranking_softmax", "lambdarank"]
    assert list(per_query["qid"]) == list(pd.unique(frame["qid"]))  # order of first appearance
    assert list(per_query["rows"]) == [int((frame["qid"] == q).sum()) for q in per_query["qid"]]
    for q, v in zip(per_query["qid"], per_query["ranking_softmax"]):
        part = frame[frame["qid"] == q]
        alone = losscli.get("ranking_softmax").value(part["pred"].to_numpy(), part["target"].to_numpy(), query=part["qid"])
        assert v == pytest.approx(alone, rel=1e-12)
    doc = json.loads(result.stdout)
    assert doc["results"][0]["value"] == pytest.approx(per_query["ranking_softmax"].mean(), rel=1e-12)
    top = doc["top"]["ranking_softmax"]
    assert [t["loss"] for t in top] == sorted(per_query["ranking_softmax"], reverse=True)[:2]
    g = pd.read_parquet(grads)
    assert list(g["row"]) == list(range(1, len(frame) + 1))
    expected = losscli.get("lambdarank").grad(frame["pred"].to_numpy(), frame["target"].to_numpy(), query=frame["qid"])
    np.testing.assert_allclose(g["grad[lambdarank][pred]"], expected.ravel(), rtol=1e-12)


def test_query_errors_are_named(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame({"q": [1, 1, 2], "pred": [0.1, 0.2, 0.3], "target": [1.0, 0.0, 1.0], "w": [1.0, 2.0, 1.0]}).to_csv(path, index=False)
    run = CliRunner().invoke
    missing = run(main, ["compute", "-l", "ranking_softmax", str(path)])
    assert missing.exit_code == 2 and "--query" in missing.output
    weights = run(main, ["compute", "-l", "ranking_softmax", "--query", "q", "--weight", "w", str(path)])
    assert weights.exit_code == 3 and "--weight differs between rows of the same query" in weights.output
    assert "1" in weights.output
    mixed = run(main, ["compute", "-l", "ranking_softmax", "-l", "mse", "--query", "q", "--per-row", str(tmp_path / "o.csv"),
                       str(path)])
    assert mixed.exit_code == 2 and "separate runs" in mixed.output
    assert not (tmp_path / "o.csv").exists()
    nulls = tmp_path / "n.parquet"
    pq.write_table(pa.table({"q": [1, None], "pred": [0.1, 0.2], "target": [1.0, 0.0]}), nulls)
    empty_key = run(main, ["compute", "-l", "ranking_softmax", "--query", "q", str(nulls)])
    assert empty_key.exit_code == 3 and "missing values" in empty_key.output
    for result in (missing, weights, mixed, empty_key):
        assert "Traceback" not in result.output
    diff = run(main, ["diff", str(path), str(path), "-l", "lambdarank"])
    assert diff.exit_code == 2 and "two compute runs" in diff.output
    kept = run(main, ["compute", "-l", "ranking_softmax", "--query", "q", "--keep", "w", "--per-row", str(tmp_path / "k.csv"),
                      str(path)])
    assert kept.exit_code == 0 and "--keep columns are per row" in kept.stderr


def test_explain_says_how_query_losses_stream():
    result = CliRunner().invoke(main, ["explain", "lambdarank"])
    assert result.exit_code == 0
    assert "per query" in result.output and "hash-partitioned" in result.output


# ----------------------------------------------------------------------------- scores close together


def close_scores(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A query's scores with pairs an ulp or a few apart (the later row the higher), exact ties, -0.0 beside 0.0 and
    values near the float range's ends; relevance different across each close pair, so ordering it by row is wrong."""
    local = np.random.default_rng(seed)
    scores = local.normal(size=size) * local.choice([1e-300, 1.0, 1e300], size=size)
    for i in range(0, size - 1, 4):
        scores[i + 1] = np.nextafter(scores[i], np.inf) if i % 8 == 0 else scores[i] * (1 + 5e-16)
    scores[-1], scores[0] = 0.0, -0.0
    if size > 5:
        scores[3] = scores[2]  # an exact tie too
    relevance = local.integers(0, 4, size=size).astype(float)
    relevance[1::2] = (relevance[::2][: relevance[1::2].size] + 1) % 4
    return scores, relevance


@pytest.mark.parametrize("size", [2, 7, 20, 64, 65])
def test_scores_an_ulp_apart_are_ranked_by_score_not_by_row(size):
    # queries up to 64 rows are ordered from sorted integer keys whose low bits hold the row; scores agreeing in
    # all but those bits must still be ordered by value (sklearn and LightGBM compare the floats themselves)
    blocks = [close_scores(size, seed) for seed in range(6)]
    scores = np.concatenate([s for s, _ in blocks])
    relevance = np.concatenate([r for _, r in blocks])
    query = np.repeat(np.arange(len(blocks)), size)
    data = {"pred": scores, "target": relevance, "query": query}
    per_query = losscli.get("ndcg_loss").per_row(scores, relevance, query=query)
    expected = [1.0 - ndcg_score(r[None], s[None]) if r.any() else 1.0 for s, r in blocks]
    np.testing.assert_allclose(per_query, expected, rtol=1e-12, atol=1e-15)
    grades = np.minimum(relevance, 3.0)
    value, grad = ours("lambdarank", {"k": 5}, {**data, "target": grades})
    losses, lambdas = zip(*(lightgbm_lambdas(list(s), list(r), k=5) for s, r in blocks))
    assert_close(value, np.mean(losses), 1e-12, "lambdarank value, scores an ulp apart")
    assert_close(grad.ravel(), np.concatenate(lambdas) / len(blocks), 1e-10, "lambdarank gradient, scores an ulp apart")
