"""Property-based suite (issue 12): invariances every metric promises, layouts through
Pipeline and ColumnTransformer, a generator of malformed CLI files, the PID identities on
random tables and streaming under any batching. Every hypothesis test lives here, so the
other modules are collected without hypothesis installed.

Bounded by the hypothesis profile set in conftest.py ("ci", the default); set
ALIGNKIT_HYPOTHESIS_PROFILE=long for a run with 20x the examples.
"""

import contextlib
import io
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402
from test_pid import assert_identities  # noqa: E402
from test_streaming import _assert_scores, _expected, _pair, _random_sizes, _stream  # noqa: E402

from conftest import SMALL_NET  # noqa: E402
from alignkit.metrics import cknna, linear_cka, mutual_knn, rbf_cka, svcca, unbiased_cka  # noqa: E402
from alignkit.pid import pid_from_joint  # noqa: E402

METRICS = {
    "linear_cka": linear_cka,
    "unbiased_cka": unbiased_cka,
    "rbf_cka": rbf_cka,
    "rbf_cka_unbiased": lambda A, B: rbf_cka(A, B, unbiased=True),
    "mutual_knn": lambda A, B: mutual_knn(A, B, k=5),
    "cknna": lambda A, B: cknna(A, B, k=5),
    "svcca": lambda A, B: svcca(A, B, n_components=3),
}
# Metrics whose value does not change when a constant is added to every row.
TRANSLATION_INVARIANT = ["linear_cka", "unbiased_cka", "rbf_cka", "rbf_cka_unbiased", "svcca"]
TOLERANCE = 1e-9


@st.composite
def representations(draw, min_features=1):
    """A correlated pair (A, B) of continuous representations (no ties but for 1 feature)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(12, 60))
    d_a, d_b = draw(st.integers(min_features, 8)), draw(st.integers(min_features, 8))
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d_a)) * rng.lognormal(sigma=2.0, size=d_a)
    B = A @ rng.normal(size=(d_a, d_b)) + draw(st.floats(0.1, 3.0)) * rng.normal(size=(n, d_b))
    return A, B


def _close(a, b):
    assert a == pytest.approx(b, abs=TOLERANCE), (a, b)


@pytest.mark.parametrize("name", METRICS)
@given(pair=representations(), k_a=st.integers(-300, 300), k_b=st.integers(-300, 300))
def test_every_metric_is_invariant_to_scaling_by_ten_to_the_k(name, pair, k_a, k_b):
    A, B = pair
    # Scaled, then rounded: compare against the representation actually passed.
    A_scaled, B_scaled = A * 10.0**k_a, B * 10.0**k_b
    _close(METRICS[name](A_scaled, B_scaled), METRICS[name](A_scaled * 10.0**-k_a, B_scaled * 10.0**-k_b))


@pytest.mark.parametrize("name", TRANSLATION_INVARIANT)
@given(pair=representations(), exponent=st.integers(0, 8), seed=st.integers(0, 2**32 - 1))
def test_translation_invariant_metrics_ignore_a_shift(name, pair, exponent, seed):
    shift_a, shift_b = (np.random.default_rng(seed).normal(size=(2, 1)) * 10.0**exponent)
    A, B = pair[0] + shift_a - shift_a, pair[1] + shift_b - shift_b  # exact after the shift
    _close(METRICS[name](A + shift_a, B + shift_b), METRICS[name](A, B))


@pytest.mark.parametrize("name", METRICS)
# One feature makes every cosine +-1: a tie, broken by sample index, so not order-free.
@given(pair=representations(min_features=2), seed=st.integers(0, 2**32 - 1))
def test_every_metric_is_invariant_to_row_and_feature_order(name, pair, seed):
    A, B = pair
    rng = np.random.default_rng(seed)
    rows = rng.permutation(A.shape[0])
    expected = METRICS[name](A, B)
    _close(METRICS[name](A[rows], B[rows]), expected)
    _close(METRICS[name](A[:, rng.permutation(A.shape[1])], B[:, rng.permutation(B.shape[1])]), expected)


@pytest.mark.parametrize("name", METRICS)
@given(pair=representations(), binary=st.booleans())
def test_every_metric_is_the_same_on_numpy_and_torch(name, pair, binary):
    A, B = pair
    if binary:  # ties everywhere: the tie-breaking must agree too
        A, B = A > 0, B > np.median(B)
    _close(METRICS[name](torch.from_numpy(A), torch.from_numpy(B)), METRICS[name](A, B))


# -- layouts through Pipeline and ColumnTransformer ------------------------------------------

def _estimators():
    from alignkit import AlignedMultimodalClassifier, AlignedMultimodalRegressor, CKAScorer, PIDEstimator

    small = dict(max_epochs=1, random_state=0, **SMALL_NET)
    return {
        "CKAScorer": lambda: CKAScorer(),
        "AlignedMultimodalClassifier": lambda: AlignedMultimodalClassifier(**small),
        "AlignedMultimodalRegressor": lambda: AlignedMultimodalRegressor(**small),
        "PIDEstimator": lambda: PIDEstimator(n_clusters=2, n_components=1, random_state=0),
    }


@pytest.mark.parametrize("name", ["CKAScorer", "AlignedMultimodalClassifier",
                                  "AlignedMultimodalRegressor", "PIDEstimator"])
@settings(max_examples=max(2, settings.default.max_examples // 4))  # each fits three pipelines
@given(dims=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=st.integers(0, 1000))
def test_layouts_survive_pipelines_and_column_transformers(name, dims, seed):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "PIDEstimator":
        dims = dims[:2]
    make = _estimators()[name]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(24, sum(dims)))
    y = np.arange(24) % 2 if name != "AlignedMultimodalRegressor" else X[:, 0]
    names = [f"v{m}" for m in range(len(dims))]
    columns = [f"c{j}" for j in range(sum(dims))]
    frame = pd.DataFrame(X, columns=columns)
    bounds = np.cumsum([0] + dims)
    # ColumnTransformer emits one "name__" prefix per modality.
    per_modality = ColumnTransformer(
        [(names[m], StandardScaler(), columns[bounds[m]:bounds[m + 1]]) for m in range(len(dims))])
    routes = [
        make_pipeline(per_modality, make()).set_output(transform="pandas"),
        make_pipeline(StandardScaler(), make().set_params(modality_dims=dims)),
        make_pipeline(StandardScaler(), make()).set_output(transform="pandas"),
    ]
    prefixed = pd.DataFrame(X, columns=[f"{names[m]}__{j}" for m in range(len(dims))
                                        for j in range(dims[m])])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*two halves")  # no halves fallback on any route
        for route, data in zip(routes, (frame, X, prefixed)):
            fitted = route.fit(data, y)[-1]
            assert fitted.modality_dims_ == dims
            assert fitted.modality_names_ == (names if data is not X else [f"m{m}" for m in range(len(dims))])


# -- malformed CLI files -------------------------------------------------------------------

def _valid_npz_bytes(rng, n, dims):
    buffer = io.BytesIO()
    np.savez(buffer, X=rng.normal(size=(n, sum(dims))), y=np.arange(n) % 2, modality_dims=dims)
    return buffer.getvalue()


@st.composite
def malformed_files(draw):
    """(file name, bytes) of a file the CLI must refuse in one line."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, dims = draw(st.integers(4, 30)), draw(st.lists(st.integers(1, 4), min_size=2, max_size=3))
    kind = draw(st.sampled_from(["truncated", "member", "names", "dtype", "complex", "dims",
                                 "ragged", "nan_target", "text", "empty", "one_d"]))
    buffer = io.BytesIO()
    if kind == "truncated":
        data = _valid_npz_bytes(rng, n, dims)
        return "f.npz", data[:draw(st.integers(0, len(data) - 1))]
    if kind == "member":
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(draw(st.sampled_from(["X.npy", "y.npy", "a.npy"])),
                             draw(st.binary(max_size=64)))
            archive.writestr("b.npy", draw(st.binary(max_size=64)))
    elif kind == "names":
        np.savez(buffer, X=rng.normal(size=(n, sum(dims))), modality_dims=dims,
                 modality_names=[f"m{m}" for m in range(draw(st.integers(0, len(dims) - 1)))])
    elif kind == "dtype":
        np.savez(buffer, X=np.full((n, sum(dims)), "a"), y=np.arange(n))
    elif kind == "complex":
        np.savez(buffer, X=rng.normal(size=(n, sum(dims))) * 1j, y=np.arange(n))
    elif kind == "dims":
        np.savez(buffer, X=rng.normal(size=(n, sum(dims))),
                 modality_dims=draw(st.sampled_from([[0, sum(dims)], [sum(dims) + 1], [1.5, 2.5]])))
    elif kind == "one_d":
        np.savez(buffer, X=rng.normal(size=n), y=np.arange(n))
    elif kind == "empty":
        return draw(st.sampled_from(["f.npz", "f.csv"])), b""
    else:
        header = ",".join([f"a__{j}" for j in range(dims[0])] + [f"b__{j}" for j in range(dims[1])] + ["t"])
        rows = [",".join(str(v) for v in rng.integers(0, 9, size=dims[0] + dims[1] + 1)) for _ in range(n)]
        if kind == "ragged":
            rows[draw(st.integers(0, n - 1))] += ",1,2"
        elif kind == "nan_target":
            rows[draw(st.integers(0, n - 1))] = ",".join(["1"] * (dims[0] + dims[1])) + ","
        else:  # a text feature
            rows[0] = "word," + rows[0].split(",", 1)[1]
        return "f.csv", ("\n".join([header, *rows]) + "\n").encode()
    return "f.npz", buffer.getvalue()


@settings(max_examples=4 * settings.default.max_examples)  # cheap, and many kinds of file
@given(file=malformed_files(), command=st.sampled_from(["align", "pid"]))
def test_malformed_files_give_one_line_and_exit_code_2(file, command):
    from alignkit._cli import main

    name, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        argv = [command, str(path)] + (["--target", "t"] if name.endswith(".csv") and command == "pid" else [])
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    lines = err.getvalue().strip().splitlines()
    errors = [line for line in lines if not line.startswith("note: ")]
    assert code == 2 and len(errors) == 1, (code, err.getvalue())
    assert errors[0].startswith(f"alignkit {command}: error: ")


tables = arrays(
    np.float64,
    st.tuples(*[st.integers(1, 5)] * 3),
    elements=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)),
).filter(lambda P: P.sum() > 0)


@settings(max_examples=40, deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_identities_and_invariances_on_random_tables(P, random):
    P = P / P.sum()
    res = pid_from_joint(P)
    assert_identities(res, P)
    assert res.converged
    # Relabelling the symbols of every variable changes nothing.
    perms = [random.sample(range(n), n) for n in P.shape]
    relabelled = pid_from_joint(P[np.ix_(*perms)])
    np.testing.assert_allclose(relabelled.atoms, res.atoms, atol=1e-8)
    # Swapping the sources swaps the unique informations.
    swapped = pid_from_joint(P.transpose(1, 0, 2))
    np.testing.assert_allclose(swapped.atoms, res.atoms[[0, 2, 1, 3]], atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_any_batching_equals_the_in_memory_metrics(seed):
    rng = np.random.default_rng(seed)
    A, B = _pair(rng, n=int(rng.integers(40, 300)))
    _assert_scores(_stream(A, B, _random_sizes(rng, A.shape[0])).score(), _expected(A, B))
