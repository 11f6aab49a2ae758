"""The networks: named outputs, encoder building, and the shared torch plumbing."""

import numpy as np
import pytest
import torch
from sklearn.utils import check_random_state
from torch import nn
from torch.utils.data import TensorDataset

from alignkit import AlignedMultimodalClassifier
from alignkit.nets import (
    MLPEncoder,
    ModalityBranch,
    MultimodalAlignmentNet,
    MultimodalOutput,
    TransformerEncoder,
)
from alignkit.nets._encoders import check_encoder_output, make_encoder
from alignkit.utils._random import derived_seed, draw_seeds
from alignkit.utils._torch import batch_loader, forked_torch_rng


def _net(fusion="mean"):
    torch.manual_seed(0)
    branches = [ModalityBranch(MLPEncoder(d, 4, (6,)), 4, 3, 5) for d in (2, 3)]
    return MultimodalAlignmentNet(branches, [2, 3], 4, 3, fusion, 0.1, False)


@pytest.mark.parametrize("fusion", ["mean", "concat"])
def test_the_network_returns_its_outputs_by_name(fusion):
    net = _net(fusion)
    X = torch.randn(7, 5)
    out = net(X)
    assert isinstance(out, MultimodalOutput) and isinstance(out, tuple)
    assert out._fields == ("fused", "outputs", "z", "h")
    assert [tuple(t.shape) for t in out] == [(7, 3), (7, 2, 3), (7, 2, 5), (7, 2, 4)]
    assert torch.equal(out.h, net.embed(X))
    torch.testing.assert_close(out.z.norm(dim=-1), torch.ones(7, 2))
    if fusion == "mean":
        assert torch.equal(out.fused, out.outputs.mean(dim=1))


def test_skorch_inference_takes_the_fused_output_first(rng):
    y = rng.integers(0, 2, 80)
    X = np.c_[y[:, None] + rng.normal(size=(80, 3)), rng.normal(size=(80, 2))]
    clf = AlignedMultimodalClassifier(modality_dims=[3, 2], max_epochs=1, hidden_dims=(4,),
                                      embed_dim=4, projection_dim=4, random_state=0).fit(X, y)
    data = TensorDataset(torch.from_numpy(X.astype(np.float32)), torch.zeros(80))
    # skorch's predict_proba keeps the first element of a tuple output, with softmax.
    np.testing.assert_allclose(clf.net_.predict_proba(data), clf.predict_proba(X), rtol=1e-6)
    fused, outputs, z, h = clf.net_.forward(data)
    assert tuple(outputs.shape) == (80, 2, 2) and tuple(h.shape) == (80, 2, 4)
    np.testing.assert_allclose(h.flatten(1).numpy(), clf.transform(X), rtol=1e-6)


def test_make_encoder_builds_every_kind_of_encoder():
    def build(spec, **kw):
        return make_encoder(spec, 6, 4, hidden_dims=(5,), input_shape=(3, 2), kwargs=kw)

    assert [m.out_features for m in build("mlp").modules() if isinstance(m, nn.Linear)] == [5, 4]
    transformer = build("transformer", d_model=8, n_heads=2)
    assert isinstance(transformer, TransformerEncoder) and transformer.input_shape == (3, 2)
    given = nn.Linear(6, 4)
    copied = build(given)
    assert copied is not given and torch.equal(copied.weight, given.weight)
    called = build(MLPEncoder, hidden_dims=())
    assert isinstance(called, MLPEncoder) and called.out.in_features == 6
    with pytest.raises(TypeError, match="encoder must be 'mlp', 'transformer', a torch.nn.Module"):
        build("gru")
    with pytest.raises(ValueError, match=r"hidden_dims must hold positive ints.*got \(5, 0\)"):
        make_encoder("mlp", 6, 4, hidden_dims=(5, 0), input_shape=None, kwargs={})


def test_check_encoder_output_names_the_modality():
    check_encoder_output(nn.Linear(6, 4), 6, 4, "0 ('img')")
    with pytest.raises(ValueError, match=r"encoder of modality 1 \('txt'\) returned \(2, 3\) "
                                         r"for a batch of 2 samples with 6 features.*\(2, 4\)"):
        check_encoder_output(nn.Linear(6, 3), 6, 4, "1 ('txt')")
    encoder = nn.Sequential(nn.Linear(6, 4), nn.Dropout(0.5))
    check_encoder_output(encoder, 6, 4, "0")
    assert encoder.training  # put back in training mode after the check


def test_seeds_are_drawn_as_scikit_learns_random_state_draws_them():
    # The integer seeds the estimators have always used: changing them changes every fit.
    assert draw_seeds(3) == check_random_state(3).randint(np.iinfo(np.int32).max)
    np.testing.assert_array_equal(draw_seeds(3, size=4),
                                  check_random_state(3).randint(np.iinfo(np.int32).max, size=4))
    state = np.random.RandomState(0)
    first, second = draw_seeds(state), draw_seeds(state)
    assert first != second  # a RandomState is advanced
    assert isinstance(draw_seeds(None), int)
    assert derived_seed(5, 0, 1) == derived_seed(5, 0, 1) != derived_seed(5, 0, 2)


def test_forked_torch_rng_seeds_inside_and_restores_outside():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with forked_torch_rng("cpu", seed=7):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3))


def test_batch_loader_serves_every_row_once_in_whole_batches():
    dataset = TensorDataset(torch.arange(10.0)[:, None], torch.arange(10))
    torch.manual_seed(0)
    orders = []
    for shuffle in (False, True):
        batches = list(batch_loader(dataset, 4, shuffle=shuffle))
        assert [len(y) for _, y in batches] == [4, 4, 2]
        rows = torch.cat([y for _, y in batches])
        assert sorted(rows.tolist()) == list(range(10))
        assert torch.equal(torch.cat([x for x, _ in batches])[:, 0].long(), rows)
        orders.append(rows.tolist())
    assert orders[0] == list(range(10)) != orders[1]
