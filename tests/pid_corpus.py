"""A deterministic corpus of BROJA problems that covers boundary optima.

:func:`corpus` returns ``(family, P)`` pairs. The families are the tables on
which an interior-point BROJA solver is known to struggle, next to the easy
ones: one source a degraded copy of the other (so the optimum is a Markov
chain with an exactly zero uniqueness and pairs of little mass), true zero
pairs, an uninformative source, deterministic gates, sparse tables, entries
down to 1e-12 (and a few down to 1e-87), skewed or single classes, empty rows
and plug-in histograms of noisy sensors. Used by tests/test_pid_corpus.py and
benchmarks/bench_pid.py.
"""

import numpy as np


def symmetric_channel(k, noise):
    """The k-ary symmetric channel: the input kept w.p. 1 - noise, else uniform
    over the other k - 1 symbols."""
    return np.full((k, k), noise / (k - 1)) + np.eye(k) * (1 - noise - noise / (k - 1))


def sensors(p_y, channel_1, channel_2):
    """P[x1, x2, y] of two conditionally independent sensors of Y."""
    return np.einsum("y,ya,yb->aby", p_y, channel_1, channel_2)


def _normalise(P):
    return P / P.sum()


def _symmetric_channel_tables(rng):
    levels = [0.0, 0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]
    tables = []
    for k in (2, 3, 4, 6, 8):
        pairs = [(e1, e2) for i, e1 in enumerate(levels) for e2 in levels[i:]]
        n_chosen = 12 if k < 8 else 4  # larger tables cost the reference seconds each
        chosen = pairs if k <= 3 else [pairs[i] for i in rng.choice(len(pairs), n_chosen, replace=False)]
        for e1, e2 in chosen:
            e1, e2 = min(e1, 1 - 1 / k), min(e2, 1 - 1 / k)
            p_y = np.full(k, 1 / k) if rng.random() < 0.5 else rng.dirichlet(np.ones(k))
            tables.append(sensors(p_y, symmetric_channel(k, e1), symmetric_channel(k, e2)))
    return tables


def _markov_chain_tables(rng):
    """Y - X1 - X2 (X2 a degraded copy of X1), some with a near-identity channel."""
    tables = []
    for _ in range(60):
        ny, n1, n2 = rng.integers(2, 6, size=3)
        p_y = rng.dirichlet(np.ones(ny))
        x1_given_y = rng.dirichlet(np.full(n1, rng.choice([0.3, 1.0, 3.0])), size=ny)
        x2_given_x1 = rng.dirichlet(np.full(n2, rng.choice([0.3, 1.0])), size=n1)
        if n1 == n2 and rng.random() < 0.5:
            x2_given_x1 = 0.2 * x2_given_x1 + 0.8 * np.eye(n1)
        tables.append(np.einsum("y,ya,ab->aby", p_y, x1_given_y, x2_given_x1))
    return tables


def _uninformative_source_tables(rng):
    tables = []
    for _ in range(30):
        n1, n2, ny = rng.integers(2, 6, size=3)
        p_1y = rng.dirichlet(np.ones(n1 * ny)).reshape(n1, ny)
        p_2 = rng.dirichlet(np.ones(n2))
        tables.append(np.einsum("ay,b->aby", p_1y, p_2))
    return tables


# Logic gates of two sources whose decompositions are known in closed form.
GATES = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "UNQ": lambda a, b: a,  # Y = X1: its bit unique to the first source
    "COPY": lambda a, b: 2 * a + b,  # Y = (X1, X2): one bit unique to each
}


def gate_table(gate, n_x=2, n_y=2, p_x1=None, p_x2=None):
    """``P[x1, x2, y]`` of independent sources and ``Y = gate(X1, X2)``.

    ``gate`` is a name in ``GATES`` or a function of two symbols in
    ``range(n_x)`` to one in ``range(n_y)``; the sources are uniform unless
    ``p_x1``, ``p_x2`` give their distributions. The one gate-table helper
    of the tests.
    """
    f = GATES.get(gate, gate)
    p_x1 = np.full(n_x, 1 / n_x) if p_x1 is None else p_x1
    p_x2 = np.full(n_x, 1 / n_x) if p_x2 is None else p_x2
    P = np.zeros((n_x, n_x, n_y))
    for i in range(n_x):
        for j in range(n_x):
            P[i, j, f(i, j)] += p_x1[i] * p_x2[j]
    return P


def _gate_tables(rng):
    tables = []
    for skewed in (False, True):
        p = (lambda n: rng.dirichlet(np.ones(n))) if skewed else (lambda n: None)
        tables += [gate_table(name, 2, 4 if name == "COPY" else 2, p(2), p(2))
                   for name in ("AND", "OR", "XOR", "COPY", "UNQ")]
        for k in range(2, 7):
            tables.append(gate_table(lambda a, b, k=k: (a + b) % k, k, k, p(k), p(k)))
            tables.append(gate_table(lambda a, b: a * b, k, k * k, p(k), p(k)))
    # Redundant copies: X1 = X2 = Y.
    for k in (2, 3, 5):
        P = np.zeros((k, k, k))
        P[np.arange(k), np.arange(k), np.arange(k)] = 1 / k
        tables.append(P)
    return tables


def _sparse_dirichlet_tables(rng):
    tables = []
    for concentration in (0.01, 0.03, 0.1, 0.3, 1.0):
        for _ in range(30):
            shape = tuple(rng.integers(2, 7, size=3))
            P = rng.dirichlet(np.full(np.prod(shape), concentration)).reshape(shape)
            if rng.random() < 0.6:
                P = P * (rng.random(shape) < rng.uniform(0.3, 0.8))
            if P.sum() > 0:
                tables.append(_normalise(P))
    return tables


def _tiny_entry_tables(rng):
    tables = []
    for exponent in (-6, -9, -12):
        for _ in range(12):
            shape = tuple(rng.integers(2, 6, size=3))
            P = rng.dirichlet(np.ones(np.prod(shape))).reshape(shape)
            tiny = rng.random(shape) < 0.4
            P[tiny] = 10.0 ** rng.uniform(exponent, exponent + 2, size=tiny.sum())
            tables.append(_normalise(P))
    for exponent in (-30, -87):  # entries spanning 1e-87..1
        P = rng.dirichlet(np.ones(27)).reshape(3, 3, 3)
        P[0, 1, :] = 10.0 ** exponent
        P[2, 2, 1] = 10.0 ** exponent
        tables.append(_normalise(P))
    return tables


def _edge_case_tables(rng):
    tables = []
    for _ in range(10):  # skewed Y
        k = int(rng.integers(2, 5))
        p_y = 10.0 ** -np.arange(k, dtype=float) * rng.uniform(1, 3, size=k)
        channel = lambda: rng.dirichlet(np.ones(3), size=k)
        tables.append(sensors(p_y / p_y.sum(), channel(), channel()))
    for _ in range(5):  # |Y| = 1
        shape = tuple(rng.integers(1, 5, size=2)) + (1,)
        tables.append(rng.dirichlet(np.ones(np.prod(shape))).reshape(shape))
    for _ in range(15):  # empty rows, columns and classes
        shape = tuple(rng.integers(3, 6, size=3))
        P = rng.dirichlet(np.ones(np.prod(shape))).reshape(shape)
        P[rng.integers(shape[0])] = 0
        P[:, rng.integers(shape[1])] = 0
        if rng.random() < 0.5:
            P[:, :, rng.integers(shape[2])] = 0
        tables.append(_normalise(P))
    return tables


def histogram(x1, x2, y, shape):
    P = np.zeros(shape)
    np.add.at(P, (x1, x2, y), 1)
    return P / len(y)


def _plugin_tables(rng):
    """Plug-in histograms of two noisy sensors of a label, 50 to 10 000 samples."""
    tables = []
    for n in (50, 200, 1000, 3000, 10_000):
        for _ in range(16):
            k = int(rng.choice([2, 2, 3, 4]))
            e1, e2 = rng.uniform(0, 0.4, size=2)
            y = rng.integers(0, k, n)
            flip = lambda e: np.where(rng.random(n) < e, rng.integers(0, k, n), y)
            tables.append(histogram(flip(e1), flip(e2), y, (k, k, k)))
    return tables


FAMILIES = {
    "symmetric channels": _symmetric_channel_tables,
    "Markov chains": _markov_chain_tables,
    "uninformative source": _uninformative_source_tables,
    "gates": _gate_tables,
    "sparse Dirichlet": _sparse_dirichlet_tables,
    "tiny entries": _tiny_entry_tables,
    "edge cases": _edge_case_tables,
    "plug-in histograms": _plugin_tables,
}


def corpus(seed=0):
    """``[(family, P), ...]``: every table of every family, the same on every call."""
    tables = []
    for k, (family, make) in enumerate(FAMILIES.items()):
        tables += [(family, _normalise(P)) for P in make(np.random.default_rng([seed, k]))]
    return tables
