"""Streaming alignment: the accumulator, CKAScorer.partial_fit, dask arrays, live torch models."""

import pickle

import numpy as np
import pytest
import torch

from conftest import SMALL_NET
from alignkit import CKAScorer
from alignkit.metrics import (
    AlignmentAccumulator,
    alignment_matrix,
    linear_cka,
    model_alignment_matrix,
    svcca,
    unbiased_cka,
)

METRICS = ("linear_cka", "unbiased_cka", "svcca")
IN_MEMORY = {
    "linear_cka": linear_cka,
    "unbiased_cka": unbiased_cka,
    "svcca": lambda A, B, **kw: svcca(A, B, n_components=4, **kw),
}


def _pair(rng, n=300, d_a=7, d_b=5):
    """Two related representations (alignment well inside (0, 1))."""
    A = rng.normal(size=(n, d_a))
    B = np.tanh(A @ rng.normal(size=(d_a, d_b))) + 0.5 * rng.normal(size=(n, d_b))
    return A, B


def _expected(A, B, **kw):
    return {name: IN_MEMORY[name](A, B, **kw) for name in METRICS}


def _stream(A, B, sizes, **kw):
    acc = AlignmentAccumulator(METRICS, n_components=4, **kw)
    start = 0
    for size in sizes:
        acc.partial_fit(A[start:start + size], B[start:start + size])
        start += size
    assert start == A.shape[0]
    return acc


def _random_sizes(rng, n):
    if n == 1:
        return [1]
    cuts = np.sort(rng.choice(np.arange(1, n), size=rng.integers(1, min(40, n)), replace=False))
    return list(np.diff(np.concatenate([[0], cuts, [n]])))


def _assert_scores(scores, expected, rtol=1e-10):
    for name in METRICS:
        assert scores[name] == pytest.approx(expected[name], rel=rtol, abs=0), name


def test_batches_of_one_row_and_float32_and_torch_input(rng):
    A, B = _pair(rng, n=120)
    expected = _expected(A, B)
    _assert_scores(_stream(A, B, [1] * 120).score(), expected)
    A32, B32 = A.astype(np.float32), B.astype(np.float32)
    _assert_scores(_stream(A32, B32, _random_sizes(rng, 120)).score(), _expected(A32, B32))
    torch_acc = _stream(torch.from_numpy(A32), torch.from_numpy(B32), [50, 1, 69])
    assert isinstance(torch_acc.moments_.comoment, torch.Tensor)
    _assert_scores(torch_acc.score(), _expected(A32, B32))


@pytest.mark.parametrize("seed", range(4))
def test_merges_in_any_order_equal_the_in_memory_metrics(seed):
    rng = np.random.default_rng(seed)
    A, B = _pair(rng, n=400)
    bounds = np.concatenate([[0], np.sort(rng.choice(np.arange(1, 400), 7, replace=False)), [400]])
    shards = [_stream(A[lo:hi], B[lo:hi], _random_sizes(rng, hi - lo))
              for lo, hi in zip(bounds[:-1], bounds[1:])]
    # Merge in a random order and tree shape: row order does not matter to CKA.
    while len(shards) > 1:
        i, j = rng.choice(len(shards), 2, replace=False)
        shards[i].merge(shards[j])
        del shards[j]
    _assert_scores(shards[0].score(), _expected(A, B))


def test_normalize_streams_exactly(rng):
    A, B = _pair(rng)
    _assert_scores(_stream(A, B, _random_sizes(rng, 300), normalize=True).score(),
                   _expected(A, B, normalize=True))


def test_large_common_offset_does_not_cancel(rng):
    # Entries on a grid of 1/64 plus 2**24 are exact in float64, so the
    # offset-free data give the exact truth (CKA ignores translations).
    n = 20_000
    A, B = (np.round(X * 64) / 64 for X in _pair(rng, n=n))
    offset = 2.0**24
    expected = _expected(A, B)
    _assert_scores(_stream(A + offset, B - offset, [50] * (n // 50)).score(), expected)
    # What the moments about the batch mean avoid: raw sums lose every digit.
    X = np.hstack([A, B]) + offset
    raw = X.T @ X - np.outer(X.sum(0), X.sum(0)) / n
    naive = (raw[:7, 7:] ** 2).sum() / np.sqrt((raw[:7, :7] ** 2).sum() * (raw[7:, 7:] ** 2).sum())
    assert abs(naive - expected["linear_cka"]) > 1e-3


def test_extreme_scales_are_exact(rng):
    A, B = _pair(rng, n=200)
    expected = _expected(A, B)
    # Fourth powers of 1e100 overflow; of 1e-100, underflow. Stored scaled by powers of 2.
    for scale_a, scale_b in ((1e100, 1e-100), (1e-150, 1.0)):
        sizes = [10, 1, 150, 39]
        acc = _stream(A * scale_a, B * scale_b, sizes)
        _assert_scores(acc.score(), expected)
    growing = AlignmentAccumulator(METRICS, n_components=4)  # the scale jumps mid-stream
    growing.partial_fit(A[:100], B[:100]).partial_fit(A[100:] * 2.0**100, B[100:] * 2.0**100)
    expected_jump = _expected(np.vstack([A[:100], A[100:] * 2.0**100]),
                              np.vstack([B[:100], B[100:] * 2.0**100]))
    _assert_scores(growing.score(), expected_jump)


def test_constant_columns_and_representations_match(rng):
    A, B = _pair(rng, n=100)
    A[:, 2] = 0.1  # constant column: exact zeros through every merge
    _assert_scores(_stream(A, B, [3, 40, 57]).score(), _expected(A, B))
    constant = np.full((100, 3), 7.3)
    scores = _stream(constant, B, [30, 70]).score()
    assert scores == {"linear_cka": 0.0, "unbiased_cka": 0.0, "svcca": 0.0}
    assert _expected(constant, B) == scores


def test_pickles_mid_stream(rng):
    A, B = _pair(rng)
    acc = _stream(A[:100], B[:100], [100])
    acc = pickle.loads(pickle.dumps(acc))
    acc.partial_fit(A[100:], B[100:])
    _assert_scores(acc.score(), _expected(A, B))
    assert acc.n_samples_seen_ == 300 and (acc.n_features_a_, acc.n_features_b_) == (7, 5)


def test_single_metric_returns_a_float_and_clip_keyword(rng):
    A = rng.normal(size=(30, 20))
    B = rng.normal(size=(30, 20))
    raw = AlignmentAccumulator("unbiased_cka").partial_fit(A, B).score()
    clipped = AlignmentAccumulator("unbiased_cka", clip=True).partial_fit(A, B).score()
    assert isinstance(raw, float)
    # The unclipped U-statistic by default, as the in-memory function.
    assert raw < 0 and raw == pytest.approx(unbiased_cka(A, B), rel=1e-10)
    assert clipped == 0.0 == unbiased_cka(A, B, clip=True)


def test_errors_are_clear(rng):
    A, B = _pair(rng, n=10)
    with pytest.raises(ValueError, match="seen no rows"):
        AlignmentAccumulator().score()
    with pytest.raises(ValueError, match="at least 4 samples"):
        AlignmentAccumulator().partial_fit(A[:3], B[:3]).score()
    with pytest.raises(ValueError, match="metrics must be one or a tuple of"):
        AlignmentAccumulator("rbf_cka").partial_fit(A, B)
    with pytest.raises(ValueError, match="same samples"):
        AlignmentAccumulator().partial_fit(A, B[:5])
    with pytest.raises(ValueError, match="A contains NaN"):
        AlignmentAccumulator().partial_fit(np.full((3, 7), np.nan), B[:3])
    with pytest.raises(ValueError, match="different widths"):
        AlignmentAccumulator().partial_fit(A, B).merge(AlignmentAccumulator().partial_fit(B, A))
    with pytest.raises(ValueError, match="normalize"):
        AlignmentAccumulator().merge(AlignmentAccumulator(normalize=True))
    with pytest.raises(ValueError, match="n_components must be a positive int"):
        AlignmentAccumulator("svcca", n_components=0).partial_fit(A, B)


def test_cka_scorer_partial_fit_equals_fit(rng):
    shared = rng.normal(size=(500, 4))
    X = np.hstack([shared, np.tanh(shared @ rng.normal(size=(4, 6))), rng.normal(size=(500, 3))
                   + shared[:, :3]])
    for metric in METRICS:
        scorer = CKAScorer(metric=metric, modality_dims=[4, 6, 3], n_components=3)
        for start, stop in ((0, 1), (1, 260), (260, 500)):
            scorer.partial_fit(X[start:stop])
        reference = CKAScorer(metric=metric, modality_dims=[4, 6, 3], n_components=3).fit(X)
        np.testing.assert_allclose(scorer.scores_, reference.scores_, rtol=1e-10)
        assert scorer.score_ == pytest.approx(reference.score_, rel=1e-10)
    scorer.fit(X[:50])
    assert not hasattr(scorer, "accumulators_")  # fit starts afresh
    with pytest.raises(ValueError, match="X has 5 features"):
        CKAScorer(modality_dims=[4, 9]).partial_fit(X).partial_fit(X[:, :5])


def test_cka_scorer_partial_fit_refuses_what_does_not_stream(rng):
    X = rng.normal(size=(20, 6))
    with pytest.raises(ValueError, match="needs every row at\nonce|needs every row at once"):
        CKAScorer(metric="mutual_knn").partial_fit(X)
    with pytest.raises(ValueError, match="clip_quantile cannot be used with partial_fit"):
        CKAScorer(clip_quantile=0.99).partial_fit(X)


# -- dask ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # Threads, not processes: two worker processes take ~10 s to start on this
    # machine; the graph and the statistics moved are the same.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_dask_arrays_on_a_two_worker_cluster(dask_client):
    import dask.array as da

    state = da.random.RandomState(0)
    A = state.normal(size=(3000, 12), chunks=(400, 6))  # built lazily, never whole on one worker
    B = da.tanh(A[:, :8] @ state.normal(size=(8, 9), chunks=(8, 9))) + 0.3 * state.normal(
        size=(3000, 9), chunks=(700, 9))
    A_np, B_np = A.compute(), B.compute()
    assert len(dask_client.scheduler_info()["workers"]) == 2
    for name, func in IN_MEMORY.items():
        assert func(A, B) == pytest.approx(func(A_np, B_np), rel=1e-10), name
    assert unbiased_cka(A, B, normalize=True) == pytest.approx(
        unbiased_cka(A_np, B_np, normalize=True), rel=1e-10)
    acc = AlignmentAccumulator(METRICS, n_components=4).partial_fit(A[:1000], B[:1000])
    acc.partial_fit(A_np[1000:], B_np[1000:])
    _assert_scores(acc.score(), _expected(A_np, B_np))
    with pytest.raises(ValueError, match="clip_quantile cannot be used with unbiased_cka on dask"):
        unbiased_cka(A, B, clip_quantile=0.9)


# -- live torch models ---------------------------------------------------------------
class _TokenNet(torch.nn.Module):
    """Outputs of shape (batch, tokens, features), a dropout, and a 2-D head."""

    def __init__(self, width):
        super().__init__()
        self.embed = torch.nn.Linear(3, width)
        self.drop = torch.nn.Dropout(0.5)
        self.mix = torch.nn.Linear(width, width)
        self.head = torch.nn.Linear(width, 2)

    def forward(self, x):  # x: (batch, 12) -> 4 tokens of 3
        tokens = torch.tanh(self.mix(self.drop(self.embed(x.reshape(-1, 4, 3)))))
        return self.head(tokens.mean(1))


def _outputs(model, X, names, pool):
    found = {}
    hooks = [dict(model.named_modules())[n].register_forward_hook(
        lambda m, i, o, n=n: found.__setitem__(n, pool(o))) for n in names]
    model.eval()
    with torch.no_grad():
        model(X)
    for h in hooks:
        h.remove()
    return [found[n].double().numpy() for n in names]


@pytest.mark.parametrize("pooling, pool", [
    ("mean", lambda o: o.mean(1) if o.ndim == 3 else o),
    ("first", lambda o: o[:, 0] if o.ndim == 3 else o),
    ("flatten", lambda o: o.flatten(1)),
    (lambda o: o.amax(1) if o.ndim == 3 else o, lambda o: o.amax(1) if o.ndim == 3 else o),
])
def test_model_alignment_matrix_equals_the_in_memory_matrix(pooling, pool):
    torch.manual_seed(0)
    model_a, model_b = _TokenNet(6), _TokenNet(5)
    model_a.train()
    X = torch.randn(203, 12)
    layers = ["embed", "mix", "head"]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, torch.zeros(203)),
                                         batch_size=32)
    M = model_alignment_matrix(model_a, model_b, loader, layers_a=layers, layers_b=layers[1:],
                               pooling=pooling)
    expected = alignment_matrix(_outputs(model_a, X, layers, pool),
                                _outputs(model_b, X, layers[1:], pool))
    np.testing.assert_allclose(M, expected, rtol=1e-10)
    model_a.train()
    model_alignment_matrix(model_a, None, X.numpy(), layers_a=["mix"], layers_b=["embed"],
                           batch_size=50, pooling=pooling)
    assert model_a.training and model_a.drop.training  # eval mode only for the call
    assert all(p.grad is None for p in model_a.parameters())
    assert not model_a.embed._forward_hooks  # hooks removed


def test_model_alignment_matrix_of_one_model_and_of_an_aligned_classifier():
    from alignkit import AlignedMultimodalClassifier
    from alignkit.datasets import make_rus_classification

    X, y = make_rus_classification(n_samples=300, random_state=0)[:2]
    clf = AlignedMultimodalClassifier(max_epochs=1, random_state=0, **SMALL_NET).fit(X, y)
    leaves = [n for n, m in clf.net_.module_.named_modules() if not list(m.children())]
    layers = [[n for n in leaves if n.startswith(f"branches.{m}.encoder.")] for m in (0, 1)]
    assert len(layers[0]) >= 2 and layers[0][-1] == "branches.0.encoder.out"
    M = model_alignment_matrix(clf, None, X, layers_a=layers[0], layers_b=layers[1],
                               metric="linear_cka", batch_size=64)
    expected = alignment_matrix(*_clf_layers(clf, X, layers), metric="linear_cka")
    np.testing.assert_allclose(M, expected, rtol=1e-8)  # float32 forward in different batches
    with pytest.raises(ValueError, match="unknown: \\['nope'\\]"):
        model_alignment_matrix(clf, None, X, layers_a=["nope"])
    with pytest.raises(ValueError, match="'metric' parameter of model_alignment_matrix must be a str among"):
        model_alignment_matrix(clf, None, X, metric="mutual_knn")


def _clf_layers(clf, X, layers):
    module = clf.net_.module_
    return [_outputs(module, torch.from_numpy(X.astype(np.float32)), names, lambda o: o)
            for names in layers]


def test_alignment_matrix_display_draws_the_model_matrix():
    from alignkit.plotting import AlignmentMatrixDisplay

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    M = model_alignment_matrix(net, None, torch.randn(64, 4), batch_size=16)
    disp = AlignmentMatrixDisplay(M, row_labels=["0", "1", "2"], col_labels=["0", "1", "2"],
                                  metric="unbiased CKA").plot()
    assert disp.im_.get_array().shape == (3, 3)
    assert M[0, 0] == pytest.approx(1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_stay_on_the_gpu(rng):
    A, B = _pair(rng)
    acc = _stream(torch.from_numpy(A).cuda(), torch.from_numpy(B).cuda(), [100, 200])
    assert acc.moments_.comoment.is_cuda
    _assert_scores(acc.score(), _expected(A, B))
    net = torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.Tanh())
    M = model_alignment_matrix(net, None, torch.from_numpy(A).float(), device="cuda",
                               batch_size=64)
    assert next(net.parameters()).device.type == "cpu"  # moved back
    assert M[0, 0] == pytest.approx(1.0)
