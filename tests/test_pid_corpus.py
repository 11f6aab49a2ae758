"""Every table of the corpus (tests/pid_corpus.py) against an independent
exponential-cone solve (cvxpy + Clarabel): certified, and within 1e-6 bits of
the reference on every atom."""

import numpy as np
import pytest
import scipy.sparse as sp

from alignkit.pid import pid_from_joint
from pid_corpus import corpus

cp = pytest.importorskip("cvxpy")

LN2 = np.log(2.0)
CORPUS = corpus()
# Tables per conic problem: the blocks are independent, so one solve serves
# many tables and cvxpy's per-problem overhead is paid once per chunk.
CHUNK = 60


def reference_min_information(tables):
    """``min I_Q(X1, X2; Y)`` (nats) of each table, from one block-separable
    exponential-cone problem: ``sum rel_entr(Q, Q[x1, x2] P(y))`` over the cells
    that can carry mass, subject to the ``(x1, y)`` and ``(x2, y)`` marginals."""
    cells, pair_of_cell, rows, n_pairs, n_cells, offset = [], [], [], 0, 0, 0
    for P in tables:
        a, b = P.sum(axis=1), P.sum(axis=0)
        support = np.argwhere((a[:, None, :] > 0) & (b[None, :, :] > 0))
        i, j, y = support.T
        pair_ids = np.unique(i * P.shape[1] + j, return_inverse=True)[1]
        cells.append(support)
        pair_of_cell.append(n_pairs + pair_ids)
        n_pairs += pair_ids.max() + 1 if len(support) else 0
        # One equality per (x1, y) and per (x2, y) with mass; each cell enters both.
        for index, margin in ((i * P.shape[2] + y, a), (j * P.shape[2] + y, b)):
            ids, inverse = np.unique(index, return_inverse=True)
            rows.append((offset + inverse, n_cells + np.arange(len(support)), margin.ravel()[ids]))
            offset += len(ids)
        n_cells += len(support)
    cell_index = np.arange(n_cells)
    pair_of_cell = np.concatenate(pair_of_cell)
    # The pair mass of every cell's (x1, x2) times P(y), as a linear map of q.
    to_pairs = sp.csr_matrix((np.ones(n_cells), (pair_of_cell, cell_index)), shape=(n_pairs, n_cells))
    p_y = np.concatenate([P.sum(axis=(0, 1))[c[:, 2]] for P, c in zip(tables, cells)])
    spread = sp.diags(p_y) @ to_pairs.T @ to_pairs
    constraint_rows, constraint_cols, rhs = (np.concatenate(parts) for parts in zip(*rows))
    A = sp.csr_matrix((np.ones(2 * n_cells), (constraint_rows, constraint_cols)),
                      shape=(offset, n_cells))
    q = cp.Variable(n_cells)
    problem = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, spread @ q))), [A @ q == rhs])
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    # Tables with entries down to 1e-280 can leave Clarabel short of its own
    # tolerances; the 1e-6-bit comparison below is what decides.
    assert problem.status in ("optimal", "optimal_inaccurate"), problem.status
    q = np.clip(q.value, 0, None)
    values, start = [], 0
    for P, c in zip(tables, cells):
        Q = np.zeros(P.shape)
        Q[tuple(c.T)] = q[start:start + len(c)]
        start += len(c)
        values.append(information(onto_marginals(Q, P)))
    return values


def onto_marginals(Q, P):
    """``Q`` moved exactly onto ``P``'s (x1, y), (x2, y) marginals: the conic
    answer misses them by up to its feasibility tolerance, and only a feasible
    table's information is an upper bound on the minimum. Scale rows, then
    columns, down to their targets, then spread the deficits as a product."""
    a, b = P.sum(axis=1), P.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        Q = Q * np.nan_to_num(np.minimum(a / Q.sum(axis=1), 1.0))[:, None, :]
        Q = Q * np.nan_to_num(np.minimum(b / Q.sum(axis=0), 1.0))[None, :, :]
        short_a, short_b = a - Q.sum(axis=1), b - Q.sum(axis=0)
        total = short_a.sum(axis=0)
        return Q + np.nan_to_num(short_a[:, None, :] * short_b[None, :, :] / total)


def information(P):
    """``I_P(X1, X2; Y)`` in nats, written out (no alignkit code)."""
    pair = P.sum(axis=2, keepdims=True)
    p_y = P.sum(axis=(0, 1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(P > 0, P * np.log(P / (pair * p_y)), 0.0).sum())


def marginal_information(P, axis):
    """``I(X_axis; Y)`` in nats."""
    return information(P.sum(axis=1 - axis, keepdims=True))


def test_corpus_is_large_and_covers_every_family():
    families = {family for family, _ in CORPUS}
    assert len(CORPUS) >= 500 and len(families) == 8
    assert min(P[P > 0].min() for _, P in CORPUS) < 1e-80
    assert len(corpus()) == len(CORPUS)
    assert all(np.array_equal(P, Q) for (_, P), (_, Q) in zip(corpus()[::50], CORPUS[::50]))


@pytest.mark.parametrize("chunk", range(0, len(CORPUS), CHUNK))
def test_corpus_matches_the_exponential_cone_reference(chunk):
    tables = [P for _, P in CORPUS[chunk:chunk + CHUNK]]
    reference = reference_min_information(tables)
    worst = 0.0
    for k, (P, min_info) in enumerate(zip(tables, reference)):
        res = pid_from_joint(P, units="bits")
        assert res.converged and res.duality_gap <= 1e-10 / LN2
        info_1, info_2 = marginal_information(P, 0), marginal_information(P, 1)

        def expected_atoms(min_info):
            return np.array([info_1 + info_2 - min_info, min_info - info_2, min_info - info_1,
                             information(P) - min_info]) / LN2

        error = np.abs(res.atoms - expected_atoms(min_info)).max()
        if error > 1e-6:
            # A large joint problem can leave Clarabel short on one block (entries
            # down to 1e-280): that table is solved again on its own.
            expected = expected_atoms(reference_min_information([P])[0])
            error = np.abs(res.atoms - expected).max()
        worst = max(worst, error)
        assert error <= 1e-6, (CORPUS[chunk + k][0], P.shape, res.atoms, expected_atoms(min_info))
        # The reference is feasible, so never below the certified minimum.
        assert min_info >= res.mutual_info * LN2 - res.synergy * LN2 - res.duality_gap * LN2 - 1e-12
        # Certified or refused: the identities hold and no atom is below -gap.
        assert res.atoms.min() >= -res.duality_gap - 1e-12
        np.testing.assert_allclose(res.atoms[0] + res.atoms[1], info_1 / LN2, atol=1e-9)
        np.testing.assert_allclose(res.atoms[0] + res.atoms[2], info_2 / LN2, atol=1e-9)
        np.testing.assert_allclose(res.atoms.sum(), res.mutual_info, atol=1e-9)
    print(f"corpus tables {chunk}..{chunk + len(tables) - 1}: worst atom error {worst:.2e} bits")
