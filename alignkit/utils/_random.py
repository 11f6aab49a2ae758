"""Integer seeds: how every random part of alignkit turns ``random_state`` into seeds.

numpy only, so that the numpy parts (metrics, datasets) seed without torch;
:func:`~alignkit.utils._torch.forked_torch_rng` seeds torch with them.
"""

import numpy as np
from sklearn.utils import check_random_state

# Seeds are drawn below the int32 maximum: every consumer (numpy's legacy
# RandomState, torch.manual_seed, scikit-learn's random_state) takes them.
SEED_BOUND = np.iinfo(np.int32).max


def draw_seeds(random_state, size=None):
    """Independent seeds drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As scikit-learn's ``random_state``; a RandomState is advanced.
    size : int, default=None
        How many seeds; None draws one and returns it as an int.

    Returns
    -------
    seeds : int or ndarray of shape (size,)
        Seeds in ``[0, SEED_BOUND)``.
    """
    seeds = check_random_state(random_state).randint(SEED_BOUND, size=size)
    return int(seeds) if size is None else seeds


def derived_seed(base, *key):
    """The seed of the part of a computation named by ``key`` under seed ``base``.

    Unlike a sequence of draws, a keyed seed does not depend on how many other
    parts there are or in which order they are seeded: modality ``m``'s
    branch gets ``derived_seed(base, 0, m)`` whatever the other modalities.
    """
    return int(np.random.SeedSequence([base, *key]).generate_state(1)[0])
