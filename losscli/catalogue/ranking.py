"""Learning-to-rank losses: one value per query (the rows sharing a ``--query`` key), mean over queries.

A query loss (``per="query"``) is given its queries stacked by size: every input is an array of
shape (queries, rows, width) and the value is one number per query; the gradient has the shape of
the first input. Scores (pred) and relevance labels (target) are one column each.

- ranking_softmax: optax.losses.ranking_softmax_loss, -sum_i y_i log softmax(s)_i.
- pairwise_logistic: RankNet's loss as rax.pairwise_logistic_loss (reduce_fn=sum) on one list.
- lambdarank: the function whose gradient is LightGBM's lambdarank objective (lambdarank_norm=false).
- ndcg_loss: 1 - sklearn.metrics.ndcg_score per query, ties averaged.
"""

from __future__ import annotations

import numpy as np

from .base import NON_NEGATIVE, REAL, Domain, Explain, Loss, Param, Role, zero_gradient

SCORES = Role("pred", "one column: the model's score of each row (higher ranks first)", width=1,
              defaults=("pred", "score", "prediction", "y_pred"))
RELEVANCE = Role("target", "one column: each row's graded relevance (0 = not relevant, higher is better)", NON_NEGATIVE,
                 width=1, defaults=("target", "relevance", "label", "y"),
                 hint="Relevance labels are grades >= 0 (0 not relevant, 1, 2, ... more relevant).")
ANY_RELEVANCE = Role("target", "one column: each row's relevance; only their order within a query matters", REAL,
                     width=1, defaults=("target", "relevance", "label", "y"))
GRADE = Domain("integer grades from 0 to 30", lambda a: (a < 0) | (a > 30) | (a != np.floor(a)))
INTEGER_RELEVANCE = Role("target", "one column: integer relevance grades 0..30 (LightGBM's label_gain default 2^y - 1)",
                         GRADE, width=1, defaults=("target", "relevance", "label", "y"),
                         hint="lambdarank takes integer grades 0..30 as LightGBM does; round or bin the labels first.")

HOW_IT_STREAMS = ("When each query's rows are one run of consecutive rows (as LightGBM and XGBoost require), queries "
                  "are evaluated as the batches arrive: memory of one batch and the rows of the query still open. "
                  "Otherwise (a key met again after its run ended) the input is read again and rows are grouped by "
                  "--query wherever they are: kept in memory up to twice --batch-rows, hash-partitioned by query into "
                  "temporary files beyond that, each partition then evaluated in memory. Cost: memory of one "
                  "partition and one key per query, disk for the spilled columns, two reads of the input and one of "
                  "the spill (standard input is first copied to a temporary file); a single query must fit in memory.")


def _flat(x: np.ndarray) -> np.ndarray:
    """(queries, rows, 1) to (queries, rows)."""
    return x[..., 0]


# NumPy copies a transposed array one output row at a time, and each of those reads every cache line of a
# (queries, rows) chunk of megabytes; a block of 512 queries stays in the cache for all its rows
_TRANSPOSE_QUERIES = 512


def _by_rows(x: np.ndarray) -> np.ndarray:
    """A (queries, rows) array as a C-contiguous (rows, queries) float64 copy, made a block of queries at a time."""
    out = np.empty(x.shape[::-1])
    for lo in range(0, x.shape[0], _TRANSPOSE_QUERIES):
        out[:, lo:lo + _TRANSPOSE_QUERIES] = x[lo:lo + _TRANSPOSE_QUERIES].T
    return out


# ----------------------------------------------------------------------------- ranking softmax


def ranking_softmax_value_and_grad(pred, target):
    # as (rows, queries) arrays every reduction over a query's rows adds or compares whole contiguous rows
    # of the array; a (queries, rows) array's short last axis was reduced one query at a time
    # s a copy of its own, shifted in place by the query's maximum; 1e308 - (-1e308) is -inf: a log-probability
    # below any float, exp of it 0
    s, y = _by_rows(_flat(pred)), _by_rows(_flat(target))
    with np.errstate(over="ignore"):
        s -= s.max(axis=0)
    winners = s == 0.0
    # -sum_i y_i (s_i - log1p(rest)), without forming the log-probabilities: both terms are >= 0 for y >= 0
    relevance, shifted_score = y.sum(axis=0), np.einsum("ij,ij->j", y, s)
    e = np.exp(s, out=s)
    # log softmax = s - log1p(rest), rest the mass of every row but the maximum's (whose e is 1): log1p keeps the
    # tiny log-probability of a winner that takes nearly all the mass. Tied maxima each add their 1 to rest.
    np.subtract(e, winners, out=e)  # each winner's 1 taken out exactly, so the others' tiny mass is summed alone
    rest = e.sum(axis=0)
    if np.count_nonzero(winners) > rest.size:  # ties for a maximum (each query has one maximum at least)
        rest += np.count_nonzero(winners, axis=0) - 1.0
    np.add(e, winners, out=e)
    value = relevance * np.log1p(rest) - shifted_score
    e *= relevance / (1.0 + rest)  # p_i sum_j y_j
    e -= y
    return value, e.T[..., None]


def ranking_softmax(pred, target):
    """-sum_i y_i log(exp(s_i) / sum_j exp(s_j)) per query (optax.losses.ranking_softmax_loss)."""
    return ranking_softmax_value_and_grad(pred, target)[0]


def ranking_softmax_grad(pred, target):
    return ranking_softmax_value_and_grad(pred, target)[1]


# ----------------------------------------------------------------------------- pairwise logistic (RankNet)


def _pair_logistic(s: np.ndarray, y: np.ndarray, sigma: float, pair_weight):
    """sum over pairs y_i > y_j of w_ij log(1 + exp(-sigma (s_i - s_j))) per query, and its gradient (q, m, 1).

    The (queries, rows) arrays are turned into (rows, queries) ones, and pairs are visited as the rows
    i and i + k of every query at once, for k = 1 .. m - 1: contiguous slices, so each unordered pair is
    taken once, nothing of size rows x rows is built and no pair is gathered. t = sign(y_i - y_j) says
    which of the two should rank higher (0: the pair does not count), and z = sigma t (s_i - s_j) is its
    margin. ``pair_weight(i, j, t)`` gives w for the row slices i, j of the transposed arrays (0 where a
    pair does not count). d/dz log(1 + exp(-z)) = -sigmoid(-z); both come from one exp(-|z|).
    """
    m, q = s.shape[1], s.shape[0]
    s, y = np.ascontiguousarray(s.T), np.ascontiguousarray(y.T)
    value, grad = np.zeros((m, q)), np.zeros((m, q))
    for k in range(1, m):
        i, j = slice(0, m - k), slice(k, m)
        t = np.sign(y[i] - y[j])
        w = pair_weight(i, j, t)
        z = (sigma * t) * (s[i] - s[j])
        e = np.exp(-np.abs(z))
        value[i] += w * (np.maximum(-z, 0.0) + np.log1p(e))
        pull = np.maximum(e, z <= 0.0) / (1.0 + e)  # sigmoid(-z), as base.sigmoid takes it
        pull *= w * t
        grad[i] -= sigma * pull
        grad[j] += sigma * pull
    return value.sum(axis=0), grad.T[..., None]


def pairwise_logistic_value_and_grad(pred, target, *, sigma=1.0):
    s, y = _flat(pred), _flat(target)
    return _pair_logistic(s, y, sigma, lambda i, j, t: np.abs(t))


def pairwise_logistic(pred, target, *, sigma=1.0):
    """sum over pairs with y_i > y_j of log(1 + exp(-sigma (s_i - s_j))) per query."""
    return pairwise_logistic_value_and_grad(pred, target, sigma=sigma)[0]


def pairwise_logistic_grad(pred, target, *, sigma=1.0):
    return pairwise_logistic_value_and_grad(pred, target, sigma=sigma)[1]


# ----------------------------------------------------------------------------- lambdarank (LightGBM)


def _discount(rank: np.ndarray) -> np.ndarray:
    """LightGBM's DCGCalculator discount of a 0-based position: 1 / log2(2 + rank)."""
    return 1.0 / np.log2(2.0 + rank)


def _discounts_at_k(m: int, k: int | None) -> np.ndarray:
    """The discounts of positions 0 .. m - 1, zero from position k on (DCG@k)."""
    discount = _discount(np.arange(m))
    if k is not None:
        discount[k:] = 0.0
    return discount


_PACKED_ROWS = 64  # queries up to this many rows are ordered by sorting packed keys (see _descending_order)
_SIGN_OFF = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def _descending_order(s: np.ndarray) -> tuple[np.ndarray, bool]:
    """Each query's rows by descending score, ties in row order (np.argsort(-s, axis=1, kind="stable")),
    and whether every query's scores are known to be distinct (no ties to look for).

    NumPy sorts numbers with SIMD instructions but argsorts a short row at a time, two to three times
    slower. So for queries of up to 64 rows each score becomes an integer that orders as the score
    does (a float's bits are sign and magnitude; flipping the magnitude bits of the negatives makes
    them order as two's complement integers), its lowest bits are replaced by the row's index, and
    those integers are sorted; the low bits then give the order. Two scores that agree in all but
    those bits, equal ones included, would be ordered by row instead of by score: a block holding
    such a pair (or a score that is not finite) is argsorted as above.
    """
    q, m = s.shape
    if m > _PACKED_ROWS or not np.isfinite(s.sum()):  # also an overflowing sum: argsorted, only slower
        return np.argsort(-s, axis=1, kind="stable"), False
    bits = max(1, (m - 1).bit_length())
    key = (-s + 0.0).view(np.int64)  # descending as ascending; + 0.0 turns -0.0 into 0.0, the same key
    key ^= (key >> 63) & _SIGN_OFF
    key &= np.int64(-(1 << bits))
    key |= np.arange(m)
    key.sort(axis=1)
    high = key >> bits
    if (high[:, 1:] == high[:, :-1]).any():
        return np.argsort(-s, axis=1, kind="stable"), False
    return key & ((1 << bits) - 1), True


def _ranks(s: np.ndarray) -> np.ndarray:
    """0-based position of each row when sorted by descending score; ties keep row order (std::stable_sort)."""
    order, _ = _descending_order(s)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(s.shape[1])[None, :].repeat(s.shape[0], axis=0), axis=1)
    return ranks


def _inverse_max_dcg(y: np.ndarray, k: int) -> np.ndarray:
    """1 / (the best DCG@k of each query's labels), or 0 when it is 0 (LightGBM's CalMaxDCGAtK)."""
    ideal = -np.sort(-y, axis=1)[:, :k]
    best = ((2.0 ** ideal - 1.0) * _discount(np.arange(ideal.shape[1]))).sum(axis=1)
    return np.where(best > 0, 1.0 / np.where(best > 0, best, 1.0), 0.0)


def lambdarank_value_and_grad(pred, target, *, k=30, sigma=1.0):
    s, y = _flat(pred), _flat(target)
    ranks = _ranks(s)
    # (rows, queries), as _pair_logistic slices them
    gain, disc, ranks = np.ascontiguousarray((2.0 ** y - 1.0).T), np.ascontiguousarray(_discount(ranks).T), ranks.T
    inverse_best = _inverse_max_dcg(y, k)

    def delta_ndcg(i, j, t):
        # |delta NDCG| of the pair (gain_high - gain_low) |disc_i - disc_j| / maxDCG, counted when the
        # better-ranked of the two is within the top k
        within = np.minimum(ranks[i], ranks[j]) < k
        return (t * (gain[i] - gain[j])) * np.abs(disc[i] - disc[j]) * inverse_best * within

    return _pair_logistic(s, y, sigma, delta_ndcg)


def lambdarank(pred, target, *, k=30, sigma=1.0):
    """sum over pairs y_i > y_j of |delta NDCG_ij| log(1 + exp(-sigma (s_i - s_j))), the better one in the top k."""
    return lambdarank_value_and_grad(pred, target, k=k, sigma=sigma)[0]


def lambdarank_grad(pred, target, *, k=30, sigma=1.0):
    return lambdarank_value_and_grad(pred, target, k=k, sigma=sigma)[1]


# ----------------------------------------------------------------------------- 1 - NDCG (scikit-learn)


def _tie_averaged_dcg(s: np.ndarray, gain: np.ndarray, k: int | None) -> np.ndarray:
    """DCG@k per query with tied scores sharing their positions' discounts (sklearn's _tie_averaged_dcg).

    Within a run of equal scores every row gets the run's mean gain times the run's summed
    discounts; that is the mean of DCG over all orders of the tied rows (McSherry and Najork 2008).
    """
    q, m = s.shape
    order, distinct = _descending_order(s)
    # one flat index for both gathers: take_along_axis builds and broadcasts an index per axis
    flat = (order + (m * np.arange(q))[:, None]).reshape(-1)
    g_sorted = gain.reshape(-1)[flat].reshape(q, m)
    discount = _discounts_at_k(m, k)
    if not distinct:  # the order was argsorted: look for ties
        s_sorted = s.reshape(-1)[flat].reshape(q, m)
        new_run = np.ones((q, m), dtype=bool)
        new_run[:, 1:] = s_sorted[:, 1:] != s_sorted[:, :-1]
        distinct = bool(new_run.all())
    if distinct:  # no ties: every run is one row, and its share is its own gain times its own discount
        return np.einsum("ij,j->i", g_sorted, discount)
    run = (np.cumsum(new_run, axis=1) - 1) + m * np.arange(q)[:, None]  # a distinct id per (query, run)
    run = run.ravel()
    size = q * m
    gain_sum = np.bincount(run, weights=g_sorted.ravel(), minlength=size)
    count = np.bincount(run, minlength=size)
    discount_sum = np.bincount(run, weights=np.broadcast_to(discount, (q, m)).ravel(), minlength=size)
    per_run = np.where(count > 0, gain_sum / np.maximum(count, 1), 0.0) * discount_sum
    return per_run.reshape(q, m).sum(axis=1)


def ndcg_loss(pred, target, *, k=None):
    """1 - DCG@k(scores) / DCG@k(ideal) per query, gains y, discounts 1/log2(rank + 1), ties averaged.

    A query with no relevant row (ideal DCG 0) scores NDCG 0 as in scikit-learn, so its loss is 1.
    """
    s, y = _flat(pred), _flat(target)
    dcg = _tie_averaged_dcg(s, y, k)
    # equal labels are interchangeable: no need to sort -y stably. Contiguous, so that its DCG is summed as the
    # no-ties DCG of the scores is (a perfect ranking then scores exactly 0)
    ideal = np.ascontiguousarray(np.sort(y, axis=1)[:, ::-1])
    best = np.einsum("ij,j->i", ideal, _discounts_at_k(y.shape[1], k))  # sum(axis=1) went one short row at a time
    ndcg = np.where(best > 0, dcg / np.where(best > 0, best, 1.0), 0.0)
    return 1.0 - ndcg


# ----------------------------------------------------------------------------- definitions

K_PARAM = Param("k", 30, "NDCG truncation: pairs count when the better-ranked row is in the top k "
                "(LightGBM lambdarank_truncation_level)", kind=int, low=1)

RANKING_SOFTMAX = Loss(
    name="ranking_softmax", family="ranking", summary="Listwise softmax cross-entropy of each query's scores against its relevance.",
    formula="-sum_i y_i log(exp(s_i) / sum_j exp(s_j)) per query; mean over queries",
    inputs=(SCORES, RELEVANCE), value=ranking_softmax, grad=ranking_softmax_grad,
    value_and_grad=ranking_softmax_value_and_grad, per="query", pairwise=False,
    explain=Explain(
        inputs="pred is one column of scores, target one column of relevance grades >= 0, and --query the column that "
               "says which rows form a list. One value per query, mean over queries. " + HOW_IT_STREAMS,
        gradient="-y_i + (sum_j y_j) softmax(s)_i for each row of the query (the relevance is not normalised, as optax).",
        use="Training a scorer to put relevant items first when only the list matters (search, recommendations); "
            "a strong, simple listwise baseline.",
        avoid="Lists whose grades sum to very different totals: the loss scales with sum y (normalise the labels "
              "first if that is unwanted). A query with all grades 0 costs 0.",
        relations="With one relevant row per query it is cross_entropy over the query's rows; pairwise_logistic and "
                  "lambdarank compare pairs instead.",
        reference="optax.losses.ranking_softmax_loss (reduce_fn=mean over lists); Cao et al. (2007), ListNet; "
                  "Bruch et al. (2019), An Analysis of the Softmax Cross Entropy Loss for Learning-to-Rank.",
    ),
)

PAIRWISE_LOGISTIC = Loss(
    name="pairwise_logistic", family="ranking", summary="RankNet: logistic loss on every pair of rows whose relevance differs.",
    formula="sum over pairs y_i > y_j of log(1 + exp(-sigma (s_i - s_j))) per query; mean over queries",
    inputs=(SCORES, ANY_RELEVANCE), value=pairwise_logistic, grad=pairwise_logistic_grad,
    value_and_grad=pairwise_logistic_value_and_grad, per="query",
    params=(Param("sigma", 1.0, "steepness of the logistic (RankNet's sigma)", low=0.0, low_open=True),),
    explain=Explain(
        inputs="pred is one column of scores, target one column of relevance (only the order of the labels within a "
               "query matters), --query the list key. One value per query (a sum over its pairs), mean over queries. "
               + HOW_IT_STREAMS,
        gradient="Row i gets -sigma sum_j sigmoid(-sigma (s_i - s_j)) over the rows j it should beat, and +sigma times "
                 "the same over the rows that should beat it.",
        use="Learning to rank from graded or pairwise preferences; the loss LambdaRank and LambdaMART start from.",
        avoid="Very long lists: the cost grows with the square of the query size and long lists dominate the sum.",
        relations="lambdarank weights each pair by its |delta NDCG|; ranking_softmax is the listwise alternative.",
        reference="Burges et al. (2005), Learning to Rank using Gradient Descent (RankNet); "
                  "rax.pairwise_logistic_loss with reduce_fn=jnp.sum on one list.",
    ),
)

LAMBDARANK = Loss(
    name="lambdarank", family="ranking", summary="LambdaRank with NDCG@k: pairwise logistic loss weighted by |delta NDCG|, as LightGBM.",
    formula="sum over pairs y_i > y_j, min(rank_i, rank_j) < k, of |delta NDCG@k_ij| log(1 + exp(-sigma (s_i - s_j)))",
    inputs=(SCORES, INTEGER_RELEVANCE), value=lambdarank, grad=lambdarank_grad,
    value_and_grad=lambdarank_value_and_grad, per="query",
    params=(K_PARAM, Param("sigma", 1.0, "steepness of the logistic (LightGBM sigmoid)", low=0.0, low_open=True)),
    explain=Explain(
        inputs="pred is one column of scores, target integer relevance grades 0..30 (gain 2^y - 1, LightGBM's default "
               "label_gain), --query the list key. One value per query, mean over queries. " + HOW_IT_STREAMS,
        gradient="LightGBM's lambdas with lambdarank_norm=false: for each counted pair, -sigma |delta NDCG| "
                 "sigmoid(-sigma (s_high - s_low)) on the better row and the opposite on the other. |delta NDCG| = "
                 "(gain_i - gain_j) |1/log2(2 + rank_i) - 1/log2(2 + rank_j)| / maxDCG@k depends on the ranks only, so "
                 "it is constant between ties and this is the exact gradient wherever scores are distinct.",
        use="Reproducing or monitoring the objective LambdaMART (LightGBM objective=lambdarank) optimises, per query.",
        avoid="Reading it as NDCG: it is a smooth surrogate (use ndcg_loss for the metric). LightGBM's default "
              "lambdarank_norm=true rescales its lambdas in a way that is not the gradient of any function; this is "
              "the norm=false objective. Queries whose labels are all 0 cost 0.",
        relations="pairwise_logistic is the same sum without the |delta NDCG| weights; ndcg_loss is the metric it "
                  "approximates.",
        reference="Burges (2010), From RankNet to LambdaRank to LambdaMART; LightGBM src/objective/rank_objective.hpp "
                  "(LambdarankNDCG, lambdarank_truncation_level=30, sigmoid=1) and src/metric/dcg_calculator.cpp.",
    ),
)

NDCG_LOSS = Loss(
    name="ndcg_loss", family="ranking", summary="1 - NDCG@k of each query, exactly scikit-learn's ndcg_score (ties averaged).",
    formula="1 - DCG@k / ideal DCG@k, DCG = sum_i y_(i) / log2(i + 1); mean over queries",
    # NDCG depends on the scores only through their order: constant between ties, so the gradient is 0 wherever it
    # exists (and undefined where two scores are equal)
    inputs=(SCORES, RELEVANCE), value=ndcg_loss, grad=zero_gradient, per="query", pairwise=False,
    params=(Param("k", None, "only the top k positions count (none: all)", kind=int, low=1, allow_none=True),),
    explain=Explain(
        inputs="pred is one column of scores, target one column of relevance gains >= 0 (used as gains directly, as "
               "scikit-learn does), --query the list key. One value per query, mean over queries. " + HOW_IT_STREAMS,
        gradient="Zero: NDCG changes only when two scores swap order, so it is flat almost everywhere (and undefined at "
                 "ties). --grad reports zeros; train with lambdarank or ranking_softmax instead.",
        use="Reporting ranking quality (mean 1 - NDCG@k over queries) and gating CI on it.",
        avoid="Training by gradient (it has none). A query with no relevant row gets NDCG 0 (loss 1) as in "
              "scikit-learn, while LightGBM's metric counts it as 1; scikit-learn refuses one-row queries, we score them.",
        relations="1 - sklearn.metrics.ndcg_score(y, s, k=k) when every query has the same size; lambdarank is its "
                  "smooth surrogate.",
        reference="Jarvelin and Kekalainen (2002), Cumulated gain-based evaluation; sklearn.metrics.ndcg_score "
                  "(ignore_ties=False: McSherry and Najork (2008) tie averaging).",
    ),
)

LOSSES = (RANKING_SOFTMAX, PAIRWISE_LOGISTIC, LAMBDARANK, NDCG_LOSS)
