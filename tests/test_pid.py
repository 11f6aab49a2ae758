"""The BROJA decomposition: canonical gates, identities, invariances, an
independent slow solver, bad input, and the plug-in bias of sampled PIDs."""

import numpy as np
import pytest
from joblib import parallel_config
from scipy.optimize import minimize

from alignkit._cli import main
from alignkit.pid import PIDBiasWarning, PIDSolverError, pid_from_joint, pid_from_samples
from alignkit.pid import _decomposition, _solver
from alignkit.utils import entropy, mutual_information
from pid_corpus import gate_table, sensors, symmetric_channel

LN2 = np.log(2.0)


def binary_entropy(p):
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


RDN = np.zeros((2, 2, 2))
RDN[0, 0, 0] = RDN[1, 1, 1] = 0.5

# name -> (P, (R, U1, U2, S) in bits)
GATES = {
    "XOR": (gate_table("XOR"), (0.0, 0.0, 0.0, 1.0)),
    "AND": (gate_table("AND"), (binary_entropy(0.25) - 0.5, 0.0, 0.0, 0.5)),
    "COPY": (gate_table("COPY", n_y=4), (0.0, 1.0, 1.0, 0.0)),
    "RDN": (RDN, (1.0, 0.0, 0.0, 0.0)),
    "UNQ": (gate_table("UNQ"), (0.0, 1.0, 0.0, 0.0)),
}


def assert_identities(res, P, atol=1e-9):
    """R+U1 = I(X1;Y), R+U2 = I(X2;Y), R+U1+U2+S = I(X1,X2;Y), all atoms >= -atol."""
    scale = 1.0 if res.units == "nats" else 1.0 / LN2
    R, U1, U2, S = res.atoms
    assert R + U1 == pytest.approx(scale * mutual_information(P, 0, 2), abs=atol)
    assert R + U2 == pytest.approx(scale * mutual_information(P, 1, 2), abs=atol)
    assert R + U1 + U2 + S == pytest.approx(res.mutual_info, abs=atol)
    assert res.mutual_info == pytest.approx(scale * mutual_information(P, (0, 1), 2), abs=atol)
    assert np.all(res.atoms >= -atol), res.atoms


@pytest.mark.parametrize("name", GATES)
def test_canonical_gates_to_1e_6_bits(name):
    P, expected = GATES[name]
    res = pid_from_joint(P)
    np.testing.assert_allclose(res.atoms, expected, rtol=0, atol=1e-6)
    assert_identities(res, P)
    assert res.converged and res.duality_gap <= 1e-10 / LN2
    assert 0 < res.n_iter < 30
    assert res.units == "bits"


def test_and_gate_value_and_repr():
    res = pid_from_joint(GATES["AND"][0], units="nats")
    # R = I(X1; Y) = h(1/4) - 1/2 bits for AND, here in nats.
    assert res.redundancy == pytest.approx((binary_entropy(0.25) - 0.5) * LN2, abs=1e-9)
    assert repr(pid_from_joint(GATES["AND"][0])) == (
        "PIDResult(redundancy=0.311278, uniqueness=(0, 0), synergy=0.5, units='bits')"
    )


def test_optimal_joint_keeps_the_pairwise_marginals_exactly(rng):
    P = rng.dirichlet(np.full(6 * 5 * 3, 0.3)).reshape(6, 5, 3)
    res = pid_from_joint(P)
    Q = res.optimal_joint
    assert Q.min() >= 0
    np.testing.assert_allclose(Q.sum(axis=1), P.sum(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(Q.sum(axis=0), P.sum(axis=0), rtol=0, atol=1e-15)
    # Q's objective is the minimum: P itself is feasible and no better.
    assert mutual_information(Q, (0, 1), 2) <= mutual_information(P, (0, 1), 2) + 1e-12


def test_zero_cells_empty_classes_and_unused_symbols_change_nothing(rng):
    P = rng.random((3, 4, 2)) * (rng.random((3, 4, 2)) < 0.6)
    P /= P.sum()
    base = pid_from_joint(P).atoms
    padded = np.zeros((5, 4, 4))
    padded[[0, 2, 4], :, 1:3] = P  # unused x1 symbols, two empty classes
    np.testing.assert_allclose(pid_from_joint(padded).atoms, base, atol=1e-9)


def test_float32_tables_are_rescaled(rng):
    P = rng.dirichlet(np.ones(3 * 50 * 2)).reshape(3, 50, 2)
    res32 = pid_from_joint(P.astype(np.float32))
    np.testing.assert_allclose(res32.atoms, pid_from_joint(P).atoms, atol=1e-5)
    assert_identities(res32, res32.joint)


def test_one_class_decomposes_to_zero():
    P = np.zeros((2, 3, 2))
    P[:, :, 1] = 1 / 6
    res = pid_from_joint(P)
    np.testing.assert_allclose(res.atoms, 0.0, atol=1e-15)
    assert res.converged and res.n_iter == 0


def slsqp_min_information(P):
    """min I_Q(X1, X2; Y) over Q with P's (x1, y), (x2, y) marginals, by SLSQP on
    the full table: a generic route sharing no code with the library."""
    n1, n2, ny = P.shape
    p_y = P.sum(axis=(0, 1))
    eps = 1e-300

    def objective(q):
        Q = q.reshape(P.shape)
        pair = Q.sum(axis=2, keepdims=True)
        ratio = (Q + eps) / (pair * p_y + eps)
        value = np.sum(Q * np.log(ratio))
        grad = np.log(ratio)  # the pair-mass terms of the gradient sum to zero
        return value, grad.ravel()

    rows = [np.zeros(P.shape) for _ in range(n1 * ny)]
    for k, (i, y) in enumerate(np.ndindex(n1, ny)):
        rows[k][i, :, y] = 1
    # The last x2 symbol's column constraints follow from the others (SLSQP
    # needs independent equality constraints).
    cols = [np.zeros(P.shape) for _ in range((n2 - 1) * ny)]
    for k, (j, y) in enumerate(np.ndindex(n2 - 1, ny)):
        cols[k][:, j, y] = 1
    A = np.array([r.ravel() for r in rows + cols])
    b = A @ P.ravel()
    q = P.ravel()
    # Restarted from its own answer: SLSQP (scipy 1.17) can stop ~1e-4 nats short.
    for _ in range(4):
        out = minimize(objective, q, jac=True, method="SLSQP", bounds=[(0, 1)] * P.size,
                       constraints=[{"type": "eq", "fun": lambda q: A @ q - b, "jac": lambda q: A}],
                       options={"ftol": 1e-12, "maxiter": 200})
        assert out.success, out.message
        q = out.x
    return out.fun


@pytest.mark.parametrize("seed", range(2, 10))
def test_agrees_with_an_independent_slsqp_solver(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 4, size=3))
    P = rng.dirichlet(np.ones(np.prod(shape))).reshape(shape)
    ours = pid_from_joint(P, units="nats")
    min_info = ours.mutual_info - ours.synergy
    reference = slsqp_min_information(P)
    # Ours is certified optimal: never worse than SLSQP, and SLSQP gets close.
    assert min_info <= reference + 1e-9
    assert reference - min_info < 1e-6


def test_hard_sparse_tables_converge_with_a_certified_gap(rng):
    for _ in range(30):
        shape = tuple(rng.integers(1, 8, size=3))
        counts = np.zeros(shape)
        n = rng.integers(5, 60)
        np.add.at(counts, tuple(rng.integers(0, k, n) for k in shape), 1)
        res = pid_from_joint(counts / n)
        assert res.converged and res.duality_gap <= 1e-10 / LN2
        assert_identities(res, counts / n)


def test_large_skewed_table_converges():
    # Many tiny cells: the case where a residual-norm line search used to stall.
    P = np.random.default_rng(11).dirichlet(np.full(60 * 60 * 3, 0.3)).reshape(60, 60, 3)
    res = pid_from_joint(P)
    assert res.converged and res.n_iter < 100
    assert_identities(res, P)


@pytest.mark.parametrize(
    "P, match",
    [
        (np.full((2, 2), 0.25), r"3-D probability table P\[x1, x2, y\]; got an array of shape \(2, 2\)"),
        (np.full((2, 2, 2), -0.125), "P must be non-negative; its smallest entry is -0.125"),
        (np.full((2, 2, 2), 0.2), "P must sum to 1; it sums to 1.6"),
        (np.full((2, 2, 2), np.nan), "Input P contains NaN"),
    ],
)
def test_bad_tables_raise_clear_errors(P, match):
    with pytest.raises(ValueError, match=match):
        pid_from_joint(P)


def test_bad_solver_options_raise():
    P = GATES["XOR"][0]
    with pytest.raises(ValueError, match="'units' parameter of pid_from_joint must be a str among"):
        pid_from_joint(P, units="bans")
    with pytest.raises(ValueError, match="'tol' parameter"):
        pid_from_joint(P, tol=0.0)


def test_too_few_iterations_are_refused_with_the_gap_and_what_to_try():
    P = np.random.default_rng(0).dirichlet(np.ones(5 * 5 * 3)).reshape(5, 5, 3)
    with pytest.raises(PIDSolverError, match=r"this 5x5x3 table: the gap stayed above tol "
                       r"\(certified duality gap .* nats, tol=1e-10, 2 of max_iter=2 iterations\)"
                       r"\. Try a larger max_iter or tol"):
        pid_from_joint(P, max_iter=2)
    assert issubclass(PIDSolverError, RuntimeError)


def binary_symmetric(p):
    return symmetric_channel(2, p)


def test_two_noisy_sensors_of_one_label_give_the_true_atoms():
    # The table: X1, X2 copies of a fair bit flipped w.p. 0.10 and 0.15.
    # The optimum is the Markov chain Y - X1 - X2 (X2 = X1 through a channel
    # flipping w.p. 0.0625), so U2 = 0, R = I(X2; Y), U1 = h(.15) - h(.1).
    P = sensors([0.5, 0.5], binary_symmetric(0.1), binary_symmetric(0.15))
    res = pid_from_joint(P)
    R, U1 = 1 - binary_entropy(0.15), binary_entropy(0.15) - binary_entropy(0.1)
    S = mutual_information(P, (0, 1), 2) / LN2 - 1 + binary_entropy(0.1)
    np.testing.assert_allclose(res.atoms, [R, U1, 0.0, S], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.atoms, [0.3902, 0.1408, 0.0, 0.1503], atol=1e-4)
    assert res.converged and res.duality_gap <= 1e-10 / LN2
    chain = np.einsum("y,ya,ab->aby", [0.5, 0.5], binary_symmetric(0.1), binary_symmetric(0.0625))
    np.testing.assert_allclose(res.optimal_joint, chain, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_sampled_noisy_sensors_are_certified(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 10_000)
    res = pid_from_samples(y ^ (rng.random(10_000) < 0.1), y ^ (rng.random(10_000) < 0.2), y)
    assert res.converged and res.duality_gap <= 1e-10 / LN2
    assert res.atoms.min() >= -res.duality_gap
    assert_identities(res, res.joint)


@pytest.mark.parametrize("name", GATES)
def test_the_barrier_fallback_alone_reaches_the_same_certified_minimum(name, rng):
    # The fallback on its own (the fast path never hands these over), on the
    # gates and on a random table, against the fast path's certified minimum.
    for P in (GATES[name][0], rng.dirichlet(np.full(4 * 3 * 3, 0.5)).reshape(4, 3, 3)):
        problem = _solver._DualProblem(P)
        (_, fallback, gap), n_iter = _solver._barrier_method(problem, 1e-10, 200)
        assert gap <= 1e-10 and n_iter < 200
        assert fallback == pytest.approx(_solver.solve_broja(P).objective, abs=2e-10)


def test_a_stalling_table_is_handed_over_and_certified():
    # Two binary sensors flipping w.p. 0.15 and 0.3 stall the plain and the
    # safeguarded interior-point runs; the barrier method certifies it.
    P = sensors([0.5, 0.5], binary_symmetric(0.15), binary_symmetric(0.3))
    res = pid_from_joint(P)
    assert res.solver == "barrier"
    assert res.converged and res.duality_gap <= 1e-10 / LN2
    assert res.uniqueness[1] == pytest.approx(0.0, abs=1e-9)  # X2 is the degraded copy
    assert_identities(res, P)


def test_an_uncertified_solve_is_refused_and_the_cli_exits_2(monkeypatch, tmp_path, capsys):
    def uncertified(P, tol, max_iter):
        return _solver.BrojaSolution(q=np.full(P.shape, np.nan), objective=np.nan,
                                     duality_gap=np.inf, n_iter=max_iter, converged=False,
                                     method="barrier")

    monkeypatch.setattr(_decomposition, "solve_broja", uncertified)
    with pytest.raises(PIDSolverError, match="2x2x2 table"):
        pid_from_joint(GATES["AND"][0])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    np.savez(tmp_path / "d.npz", X=np.c_[y + rng.normal(size=300), y + rng.normal(size=300)],
             y=y, modality_dims=[1, 1])
    assert main(["pid", str(tmp_path / "d.npz"), "--n-clusters", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("alignkit pid: error: The BROJA solver could not certify the PID of this")
    assert len(err.splitlines()) == 1


def test_entropy_refuses_non_finite_cells():
    assert entropy([0.5, 0.5, 0.0]) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="1 of its 3 cells are NaN or infinite"):
        entropy([0.5, np.nan, 0.5])


def test_samples_match_the_joint_of_their_histogram(rng):
    x1, x2, y = rng.integers(0, 3, size=(3, 500))
    labels = np.array(["a", "b", "c"])
    res = pid_from_samples(labels[x1], x2 * 10.0, y)
    counts = np.zeros((3, 3, 3))
    np.add.at(counts, (x1, x2, y), 1)
    np.testing.assert_allclose(res.atoms, pid_from_joint(counts / 500).atoms, atol=1e-9)
    assert res.n_samples == 500


@pytest.mark.parametrize(
    "x1, y, error, match",
    [
        ([0], [1], ValueError, "at least 2 samples; got 1 sample"),
        ([0, 1, 0], [1, 1, 1], ValueError, "y has 1 class"),
        ([0, 1], [1, 0, 1], ValueError, "inconsistent numbers of samples"),
        ([0.0, np.nan, 1.0], [0, 1, 1], ValueError, "Input x1 contains NaN"),
        (np.zeros((3, 2)), [0, 1, 1], ValueError, "x1 should be a 1d array, got an array of shape"),
        (np.array([1, "a", 2], dtype=object), [0, 1, 1], ValueError,
         r"x1 mixes value types \(int, str\); give each of x1, x2 and y values of one type"),
    ],
)
def test_bad_samples_raise_clear_errors(x1, y, error, match):
    with pytest.raises(error, match=match):
        pid_from_samples(x1, np.zeros(len(x1)), y)


def miller_madow_bits(k12, ky, n):
    return (k12 - 1) * (ky - 1) / (2 * n * LN2)


def test_plugin_bias_of_independent_data_lands_in_synergy_and_the_null_removes_it():
    rng = np.random.default_rng(1)
    n = 2000
    x1, x2, y = rng.integers(0, 20, n), rng.integers(0, 20, n), rng.integers(0, 2, n)
    with pytest.warns(PIDBiasWarning, match=r"2000 samples for a 20x20x2 joint histogram"):
        res = pid_from_samples(x1, x2, y, n_permutations=40, random_state=0)
    R, U1, U2, S = res.atoms
    # The truth is 0 for every atom; the plug-in puts ~0.15 bits into synergy.
    assert 0.1 < S < 0.22 and max(R, U1, U2) < 0.015
    # The shuffled-label null sits at that bias: its mean is the Miller-Madow
    # term (to the accuracy of the approximation) and the observed value.
    null_S = res.null_distribution[:, 3]
    assert res.bias[3] == pytest.approx(null_S.mean())
    assert res.bias[3] == pytest.approx(miller_madow_bits(400, 2, n), rel=0.25)
    assert abs(S - res.bias[3]) < 3 * null_S.std()
    # So the bias-corrected synergy is near 0 and not significant.
    assert abs(res.corrected[3]) < 0.03
    assert res.pvalues[3] > 0.05
    assert res.null_distribution.shape == (40, 4)


def test_plugin_bias_grows_with_classes_and_the_analytic_bias_is_reported():
    rng = np.random.default_rng(2)
    n = 2000
    x1, x2, y = rng.integers(0, 20, n), rng.integers(0, 20, n), rng.integers(0, 10, n)
    with pytest.warns(PIDBiasWarning, match=r"overstates synergy by about 1\.29 bits"):
        res = pid_from_samples(x1, x2, y)
    assert 1.0 < res.synergy < 1.4
    occupied = len(np.unique(x1 * 20 + x2))
    np.testing.assert_allclose(res.bias, [0, 0, 0, miller_madow_bits(occupied, 10, n)])
    np.testing.assert_allclose(res.corrected, res.atoms - res.bias)
    assert res.null_distribution is None and res.pvalues is None


def test_real_synergy_is_significant_against_the_null(rng):
    x1, x2 = rng.integers(0, 2, size=(2, 3000))
    res = pid_from_samples(x1, x2, x1 ^ x2, n_permutations=19, random_state=0)
    assert res.synergy == pytest.approx(1.0, abs=0.01)
    assert res.pvalues[3] == pytest.approx(1 / 20)
    assert res.corrected[3] == pytest.approx(1.0, abs=0.01)


def test_permutations_are_reproducible_and_parallel_safe(rng):
    x1, x2, y = rng.integers(0, 4, size=(3, 400))
    serial = pid_from_samples(x1, x2, y, n_permutations=6, random_state=3)
    with parallel_config(backend="threading"):  # processes would take seconds to start
        parallel = pid_from_samples(x1, x2, y, n_permutations=6, random_state=3, n_jobs=2)
    np.testing.assert_array_equal(serial.null_distribution, parallel.null_distribution)
