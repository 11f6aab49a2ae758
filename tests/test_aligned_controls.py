"""stop_gradient, per-modality lr / weight_decay, the early-stopping monitor and λ warm-up."""

import numpy as np
import pytest
import torch

from conftest import SMALL_NET
from alignkit import AlignedMultimodalClassifier, AlignedMultimodalRegressor
from alignkit.metrics import modality_scorer

torch.set_num_threads(1)

SMALL = dict(SMALL_NET, modality_dims=[3, 2], max_epochs=4, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 160)
    X = np.c_[y[:, None] + rng.normal(size=(160, 3)), y[:, None] + rng.normal(size=(160, 2))]
    return X, y


def _weights(est, m, part):
    return [p.detach() for p in getattr(est.net_.module_.branches[m], part).parameters()]


def _same(a, b):
    return all(torch.equal(p, q) for p, q in zip(a, b))


@pytest.mark.parametrize("Estimator", [AlignedMultimodalClassifier, AlignedMultimodalRegressor])
def test_stop_gradient_modality_trains_exactly_as_without_alignment(Estimator, data):
    X, y = data
    y = y if Estimator is AlignedMultimodalClassifier else y + 0.1 * X[:, 0]
    plain = Estimator(lam=0, **SMALL).fit(X, y)
    teacher = Estimator(lam=2, stop_gradient=[0], **SMALL).fit(X, y)
    symmetric = Estimator(lam=2, **SMALL).fit(X, y)
    for part in ("encoder", "head"):
        # Bit-identical: no contrastive gradient reaches modality 0 at all...
        assert _same(_weights(plain, 0, part), _weights(teacher, 0, part))
        # ... while it does reach modality 1, and both under symmetric alignment.
        assert not _same(_weights(plain, 1, part), _weights(teacher, 1, part))
        assert not _same(_weights(plain, 0, part), _weights(symmetric, 0, part))
    # The teacher's projection head still learns to be matched.
    assert not _same(_weights(plain, 0, "projection"), _weights(teacher, 0, "projection"))
    assert teacher.stop_gradient_ == [0]
    assert teacher.history_[-1, "train_contrastive_loss"] > 0


def test_stop_gradient_takes_modality_names_and_refuses_all(data):
    X, y = data
    import pandas as pd

    frame = pd.DataFrame(X, columns=["a__0", "a__1", "a__2", "b__0", "b__1"])
    kw = {**SMALL, "modality_dims": None, "max_epochs": 1}
    assert AlignedMultimodalClassifier(stop_gradient=["b"], **kw).fit(frame, y).stop_gradient_ == [1]
    with pytest.raises(ValueError, match="detaches every modality"):
        AlignedMultimodalClassifier(stop_gradient=[0, "b"], **kw).fit(frame, y)
    with pytest.raises(ValueError, match="modality"):
        AlignedMultimodalClassifier(stop_gradient=[2], **kw).fit(frame, y)


def test_per_modality_lr_and_weight_decay_are_adamw_param_groups(data):
    X, y = data
    clf = AlignedMultimodalClassifier(weight_decay=[0.0, 1.0],
                                      **{**SMALL, "lr": [1e-3, 1e-2], "max_epochs": 1}).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    branch_params = [{id(p) for p in b.parameters()} for b in clf.net_.module_.branches]
    for m, (lr, decay) in enumerate([(1e-3, 0.0), (1e-2, 1.0)]):
        (group,) = [g for g in groups if {id(p) for p in g["params"]} == branch_params[m]]
        assert (group["lr"], group["weight_decay"]) == (lr, decay)
    # A float for all is the same training as the same float listed per modality.
    one = AlignedMultimodalClassifier(**{**SMALL, "lr": 5e-3}, weight_decay=0.1).fit(X, y)
    each = AlignedMultimodalClassifier(**{**SMALL, "lr": [5e-3, 5e-3]}, weight_decay=[0.1, 0.1]).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), each.predict_proba(X))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lr": [1e-3]}, "lr lists 1 entries but X has 2 modalities"),
        ({"lr": [1e-3, 0.0]}, r"lr must hold finite numbers > 0"),
        ({"weight_decay": [0.1, np.nan]}, r"weight_decay must hold finite numbers >= 0"),
    ],
)
def test_bad_per_modality_settings_name_the_parameter(params, message, data):
    X, y = data
    with pytest.raises(ValueError, match=message):
        AlignedMultimodalClassifier(**{**SMALL, **params}).fit(X, y)


def test_early_stopping_monitors_the_task_loss_by_default(data):
    X, y = data
    kw = {**SMALL, "lam": 4.0, "early_stopping": True, "max_epochs": 3}
    clf = AlignedMultimodalClassifier(**kw).fit(X, y)
    stopper = dict(clf.net_.callbacks_)["early_stopping"]
    assert stopper.monitor == "valid_task_loss"
    task, total = clf.history_[:, "valid_task_loss"], clf.history_[:, "valid_loss"]
    # The total validation loss adds λ·InfoNCE (≈ 4·log 32 here) to the task loss.
    assert all(t_ + 1.0 < l_ for t_, l_ in zip(task, total))
    clf = AlignedMultimodalClassifier(scoring="loss", **kw).fit(X, y)
    assert dict(clf.net_.callbacks_)["early_stopping"].monitor == "valid_loss"


def test_early_stopping_on_a_score_maximises_it(data):
    X, y = data
    reg = AlignedMultimodalRegressor(early_stopping=True, scoring=modality_scorer(1),
                                     **SMALL).fit(X, y.astype(float))
    stopper = dict(reg.net_.callbacks_)["early_stopping"]
    assert (stopper.monitor, stopper.lower_is_better) == ("valid_score", False)
    scores = reg.history_[:, "valid_score"]
    assert len(scores) == reg.n_iter_ and all(-10 < s <= 1 for s in scores)
    clf = AlignedMultimodalClassifier(early_stopping=True, scoring="accuracy", **SMALL).fit(X, y)
    assert all(0 <= s <= 1 for s in clf.history_[:, "valid_score"])


def test_lam_warmup_ramps_lam_and_is_off_by_default(data):
    X, y = data
    kw = {**SMALL, "lam": 2.0}
    ramped = AlignedMultimodalClassifier(lam_warmup=4, **kw).fit(X, y)
    np.testing.assert_allclose(ramped.history_[:, "lam"], [0.5, 1.0, 1.5, 2.0])
    assert AlignedMultimodalClassifier(**kw).fit(X, y).history_[:, "lam"] == [2.0] * 4
