"""The neural "batch" PID estimator for continuous modalities (Liang et al. 2023).

No discretisation: classifiers give ``p(y | x1)``, ``p(y | x2)`` and
``p(y | x1, x2)`` per sample (out of fold), and within a batch of ``n``
samples each sample is its own symbol: ``a[i, y] = p(y | x1_i) / n`` and
``b[j, y] = p(y | x2_j) / n`` are the batch's ``(x1, y)`` and ``(x2, y)``
marginals (rescaled per class to shared class masses). A network scores every
pair ``(x1_i, x2_j)`` per class; Sinkhorn scaling turns the scores into a
table ``Q[i, j, y]`` with exactly those marginals, and training minimises
``I_Q(X1, X2; Y)`` over the network's weights. The PID atoms then follow from
the batch-averaged ``I(X1; Y)``, ``I(X2; Y)``, ``min I_Q`` and the joint
classifier's ``I(X1, X2; Y)``, as in :func:`~alignkit.pid.pid_from_joint`.
"""

import copy
import math

import numpy as np
import torch
from scipy.special import entr
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNet
from torch import nn
from torch.utils.data import TensorDataset

from ..utils import entropy
from ..utils._random import draw_seeds
from ..utils._torch import DivergenceGuard, batch_loader, forked_torch_rng
from ._posteriors import default_classifier, out_of_fold_posteriors
from ._solver import round_to_marginals

__all__ = ["fit_batch_pid"]

# Hidden units and per-class embedding width of the pair-scoring network.
HIDDEN_UNITS = 64
EMBED_DIM = 16
# Sinkhorn sweeps per batch, before the table is rounded exactly onto the marginals.
SWEEPS = 20
# Pair scores lie within +-SCORE_RANGE: exp() of their spread stays finite and
# nonzero in float32, and a coupling can still be as small as e^-60 of another.
SCORE_RANGE = 30.0


def batch_marginals(post1, post2):
    """The batch's ``(x1, y)`` and ``(x2, y)`` marginals and class masses.

    Each side's posteriors, divided by the batch size, would give the class
    masses twice, slightly differently; both are rescaled to their mean so
    that a table with both marginals exists.
    """
    class_mass = (post1.sum(dim=0) + post2.sum(dim=0)) / (2 * post1.shape[0])
    return (post1 * (class_mass / post1.sum(dim=0)), post2 * (class_mass / post2.sum(dim=0)),
            class_mass)


def sinkhorn(scores, a, b, n_sweeps):
    """``Q[:, :, y] = diag(u) exp(scores[:, :, y]) diag(v)`` after ``n_sweeps``
    alternate scalings towards row sums ``a[:, y]`` and column sums ``b[:, y]``
    (the columns exact, the rows as close as the sweeps get them)."""
    kernel = torch.exp(scores - scores.amax(dim=(0, 1), keepdim=True))
    v = torch.ones_like(b)
    for _ in range(n_sweeps):
        u = a / torch.einsum("ijy,jy->iy", kernel, v)
        v = b / torch.einsum("ijy,iy->jy", kernel, u)
    return u.unsqueeze(1) * kernel * v.unsqueeze(0)


def information_terms(q, a, b, class_mass):
    """``I(X1; Y)``, ``I(X2; Y)`` of the marginals and ``I_Q(X1, X2; Y)`` of ``Q``
    rounded onto them, in nats."""
    log_mass = class_mass.log()

    def information(m):
        return (m * (m.log() - m.sum(dim=1, keepdim=True).log() - log_mass)).sum()

    # Sinkhorn's rows are only as exact as its sweeps: a network trained on the
    # unrounded table learns to exploit the slack and reports too little
    # information. Floored at the smallest normal number: x log x has an
    # infinite slope at 0.
    q = round_to_marginals(q, a, b, torch).clamp(min=torch.finfo(q.dtype).tiny)
    pair = q.sum(dim=2)
    # Each class's total is exactly its mass now: I_Q = sum q log q - sum Q log Q + H(Y).
    min_info = (torch.xlogy(q, q).sum() - torch.xlogy(pair, pair).sum()
                - (class_mass * log_mass).sum())
    return information(a), information(b), min_info


class PairScores(nn.Module):
    """Per-class scores ``<f1(x1_i)_y, f2(x2_j)_y> / sqrt(k)`` of every pair of a
    batch, scaled onto the batch's marginals: the output is ``(Q, a, b, class
    masses)``. The input rows are ``[x1 | x2 | p(y|x1) | p(y|x2)]``."""

    def __init__(self, dims, n_classes):
        super().__init__()
        self.widths = [dims[0], dims[1], n_classes, n_classes]
        self.n_classes = n_classes
        self.encoders = nn.ModuleList(
            nn.Sequential(nn.Linear(d, HIDDEN_UNITS), nn.ReLU(),
                          nn.Linear(HIDDEN_UNITS, n_classes * EMBED_DIM))
            for d in dims
        )

    def forward(self, X):
        x1, x2, post1, post2 = X.split(self.widths, dim=1)
        a, b, class_mass = batch_marginals(post1, post2)
        f1, f2 = (enc(x).view(len(x), self.n_classes, EMBED_DIM)
                  for enc, x in zip(self.encoders, (x1, x2)))
        scores = torch.einsum("iyk,jyk->ijy", f1, f2) / math.sqrt(EMBED_DIM)
        scores = SCORE_RANGE * torch.tanh(scores / SCORE_RANGE)
        return sinkhorn(scores, a, b, SWEEPS), a, b, class_mass


class CouplingNet(NeuralNet):
    """skorch net whose loss is the batch's ``I_Q(X1, X2; Y)``; the targets are unused."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return information_terms(*y_pred)[2]


def fit_batch_pid(x1, x2, y, *, classifier, batch_size, max_epochs, lr, device, n_jobs, seed):
    """Fit the batch estimator on ``device`` ("cpu" or "cuda"); returns the
    information terms (nats), the net and the classifiers of ``x1``, ``x2`` and
    both, fitted on all the data."""
    seeds = draw_seeds(seed, size=5)
    if classifier is None:
        classifier = default_classifier(int(seeds[0]))
    both = np.hstack([x1, x2])
    post1, post2, post12 = (out_of_fold_posteriors(classifier, features, y, n_jobs, int(s))
                            for features, s in zip((x1, x2, both), seeds[:3]))
    # I(X1, X2; Y) = H(Y) - E[H(Y | x1, x2)], from the joint posteriors.
    joint_info = entropy(post12.mean(axis=0)) - entr(post12).sum(axis=1).mean()
    scaled = [StandardScaler().fit_transform(x) for x in (x1, x2)]
    data = np.hstack([*scaled, post1, post2]).astype(np.float32)
    batch_size = min(batch_size, len(y))
    with forked_torch_rng(device, int(seeds[3])):
        net = CouplingNet(
            PairScores,
            module__dims=[x1.shape[1], x2.shape[1]],
            module__n_classes=post1.shape[1],
            criterion=nn.Identity,
            optimizer=torch.optim.Adam,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            dataset=TensorDataset,
            iterator_train=batch_loader,
            iterator_train__shuffle=True,
            train_split=None,
            device=device,
            callbacks=[("divergence_guard", DivergenceGuard(f"Try a lower lr (now {lr})."))],
            verbose=0,
        )
        net.fit(torch.from_numpy(data), torch.zeros(len(data)))
    terms = evaluate(net.module_, data, batch_size, np.random.default_rng(seeds[4]), device)
    return (*terms, joint_info), net, [clone(classifier).fit(x, y) for x in (x1, x2, both)]


def evaluate(module, data, batch_size, rng, device):
    """Batch-averaged ``I(X1; Y)``, ``I(X2; Y)`` and ``min I_Q`` over one pass of
    the data in random batches of ``batch_size``, as in training but in float64."""
    module = copy.deepcopy(module).double().eval()
    n_batches = max(1, len(data) // batch_size)
    order = rng.permutation(len(data))[: n_batches * batch_size]
    totals = np.zeros(3)
    with torch.no_grad():
        for rows in np.array_split(order, n_batches):
            batch = torch.from_numpy(data[rows].astype(np.float64)).to(device)
            totals += [float(term) for term in information_terms(*module(batch))]
    return totals / n_batches
