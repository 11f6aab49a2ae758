import os

import numpy as np
import pytest
import torch

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # tests/test_properties.py skips itself; everything else still runs
    settings = None
if settings is not None:
    # Property tests: "ci" keeps tests/test_properties.py to about a minute;
    # ALIGNKIT_HYPOTHESIS_PROFILE=long runs 20x the examples (see docs/failure_modes.rst).
    _SLOW_OK = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("ci", max_examples=15, derandomize=True, **_SLOW_OK)
    settings.register_profile("long", max_examples=300, **_SLOW_OK)
    settings.load_profile(os.environ.get("ALIGNKIT_HYPOTHESIS_PROFILE", "ci"))

# One torch thread per process: on 2 cores this makes the estimator checks ~20x faster.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(0)

# A network small enough that a fit takes a fraction of a second; tests add max_epochs,
# random_state and what they examine.
SMALL_NET = dict(hidden_dims=(16,), embed_dim=8, projection_dim=8, batch_size=64, lr=1e-2)

