import os

import numpy as np
import pytest
import torch

# One torch thread per process: on 2 cores this makes the estimator checks ~20x faster.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
