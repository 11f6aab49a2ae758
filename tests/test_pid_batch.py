"""BatchPIDEstimator: the neural batch estimator."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from alignkit.pid import BatchPIDEstimator, PIDBiasWarning, pid_from_joint
from alignkit.pid._batch import (
    batch_marginals,
    default_classifier,
    information_terms,
    out_of_fold_posteriors,
)
from alignkit.pid._solver import solve_broja
from pid_corpus import GATES, gate_table

torch.set_num_threads(1)
N = 1500
BITS = np.log(2)


def gate_data(gate, seed=0):
    """Two fair bits, each seen by its modality in 2 noisy dimensions, and a gate of them."""
    rng = np.random.default_rng(seed)
    b1, b2 = rng.integers(0, 2, size=(2, N))
    X = np.hstack([b1[:, None] + 0.1 * rng.normal(size=(N, 2)),
                   b2[:, None] + 0.1 * rng.normal(size=(N, 2))])
    return X, GATES[gate](b1, b2)


def fit_batch(X, y, **params):
    params = {"batch_size": 128, "max_epochs": 8, "random_state": 0, **params}
    return BatchPIDEstimator(modality_dims=[2, 2], **params).fit(X, y)


def exact_atoms(gate):
    return pid_from_joint(gate_table(gate)).atoms


@pytest.mark.parametrize("gate", ["AND", "XOR", "UNQ"])
def test_gates_close_to_the_exact_decomposition(gate):
    est = fit_batch(*gate_data(gate))
    atoms = est.atoms_
    # Batches of 128 overstate min I_Q by ~0.03 bits on AND (see the docstring).
    np.testing.assert_allclose(atoms, exact_atoms(gate), atol=0.06)
    # The identities hold exactly, as in pid_from_joint.
    assert atoms.sum() == pytest.approx(est.mutual_info_, abs=1e-12)
    assert est.mutual_info_ == pytest.approx(exact_atoms(gate).sum(), abs=0.03)
    assert est.n_iter_ == 8 == len(est.net_.history)


def test_network_reaches_the_exact_minimum_of_each_batch():
    """Any table with the batch's marginals bounds min I_Q from above; our solver
    gives the minimum itself. The trained network must come within 0.005 bits."""
    X, y = gate_data("AND")
    est = fit_batch(X, y)
    x1, x2 = X[:, :2], X[:, 2:]
    post = [out_of_fold_posteriors(default_classifier(0), x, y, None, 0) for x in (x1, x2)]
    data = np.hstack([StandardScaler().fit_transform(x1), StandardScaler().fit_transform(x2), *post])
    module = est.net_.module_.double().eval()
    rng = np.random.default_rng(1)
    for _ in range(3):
        batch = torch.from_numpy(data[rng.permutation(N)[:128]])
        with torch.no_grad():
            q, a, b, class_mass = module(batch)
            network = float(information_terms(q, a, b, class_mass)[2])
        a, b, class_mass = a.numpy(), b.numpy(), class_mass.numpy()
        # Any table with these marginals will do as the solver's input.
        exact = solve_broja(a[:, None, :] * b[None, :, :] / class_mass)
        minimum = exact.objective - np.sum(class_mass * np.log(class_mass))
        excess = (network - minimum) / BITS
        assert -1e-9 <= excess < 0.005, excess


def test_batch_marginals_share_class_masses():
    rng = np.random.default_rng(0)
    post1, post2 = (torch.from_numpy(rng.dirichlet(np.ones(3), size=50)) for _ in range(2))
    a, b, class_mass = batch_marginals(post1, post2)
    torch.testing.assert_close(a.sum(dim=0), class_mass)
    torch.testing.assert_close(b.sum(dim=0), class_mass)
    assert float(class_mass.sum()) == pytest.approx(1.0)


def test_reproducible_picklable_and_scored():
    X, y = gate_data("AND")
    est, again = fit_batch(X, y, max_epochs=2), fit_batch(X, y, max_epochs=2)
    assert est.redundancy_ == again.redundancy_ and est.synergy_ == again.synergy_
    restored = pickle.loads(pickle.dumps(est))
    assert restored.score(X, y) == est.score(X, y)
    # H(Y) - cross-entropy of the joint classifier; y is a function of the two
    # bits, so it comes close to H(Y) itself, and never above.
    frequencies = np.bincount(y) / N
    entropy = -np.sum(frequencies * np.log2(frequencies))
    assert entropy - 0.02 < est.score(X, y) <= entropy
    assert est.score(X, y) > fit_batch(X, y, max_epochs=2, units="nats").score(X, y)


def test_transform_gives_each_modality_class_probabilities():
    X, y = gate_data("AND")
    est = fit_batch(X, y, max_epochs=1)
    proba = est.transform(X[:5])
    assert proba.shape == (5, 4)
    np.testing.assert_allclose(proba.reshape(5, 2, 2).sum(axis=2), 1.0)
    np.testing.assert_allclose(proba[:, :2], est.classifiers_[0].predict_proba(X[:5, :2]))
    assert est.get_feature_names_out().tolist() == ["m0_proba0", "m0_proba1", "m1_proba0", "m1_proba1"]


def test_batch_estimator_errors():
    X, y = gate_data("AND")
    with pytest.raises(InvalidParameterError, match="classifier"):
        fit_batch(X, y, classifier=LinearRegression())
    y_rare = np.zeros(N, dtype=int)
    y_rare[0] = 1
    with pytest.raises(ValueError, match="at least 2 samples of every class; the smallest class has 1"):
        fit_batch(X, y_rare)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' was asked for but CUDA is not available"):
            fit_batch(X, y, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    X, y = gate_data("AND")
    cpu, cuda = fit_batch(X, y, max_epochs=2), fit_batch(X, y, max_epochs=2, device="cuda")
    np.testing.assert_allclose([cuda.redundancy_, *cuda.uniqueness_, cuda.synergy_],
                               [cpu.redundancy_, *cpu.uniqueness_, cpu.synergy_], atol=0.02)


def test_batch_larger_than_the_data_or_negative_atoms_warn():
    # Issue 12: 5 samples and one epoch gave S = -0.3 bits without a word.
    X, _ = gate_data("AND")
    with pytest.warns(PIDBiasWarning) as caught:
        est = BatchPIDEstimator(modality_dims=[2, 2], max_epochs=1, random_state=1).fit(
            X[:5], [0, 1, 0, 1, 0])
    messages = [str(w.message) for w in caught]
    assert any("batch_size=256 exceeds the 5 samples" in m for m in messages)
    assert est.synergy_ < -0.1
    assert any(m.startswith("Negative atoms S = ") and "do not read these atoms" in m
               for m in messages)


def test_a_last_step_to_non_finite_weights_is_an_error_not_nan_atoms():
    # With these seeds the one step on 5 samples (posteriors at the 1e-9
    # floor) has a NaN gradient; the atoms came out NaN without a word.
    X, _ = gate_data("AND")
    with pytest.warns(PIDBiasWarning), pytest.raises(
            FloatingPointError, match=r"diverged in epoch 1: its last step left non-finite "
                                      r"weights\. Try a lower lr \(now 0\.003\)"):
        BatchPIDEstimator(modality_dims=[2, 2], max_epochs=1, random_state=0).fit(
            X[:5], [0, 1, 0, 1, 0])
