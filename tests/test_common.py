"""scikit-learn's estimator checks over every public alignkit estimator.

Estimators are found by walking the public modules, so a new one cannot be
missed; ``FAST_PARAMS`` only shrinks training for speed,
``EXTRA_CONFIGURATIONS`` adds settings that run other code paths, and every
expected failure carries its reason.
"""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import SMALL_NET
import alignkit

# Settings that keep each check to a fraction of a second; behaviour is unchanged.
_FAST_NET = dict(max_epochs=10, random_state=0, **SMALL_NET)
FAST_PARAMS = {
    "AlignedMultimodalClassifier": _FAST_NET,
    "AlignedMultimodalRegressor": _FAST_NET,
    "BatchPIDEstimator": dict(max_epochs=1, batch_size=16, random_state=0),
}

# Further configurations checked as well: ones that run different code.
EXTRA_CONFIGURATIONS = {
}

_FLOAT32_INFERENCE = (
    "the nets compute in float32: outputs for a subset of rows agree with the full "
    "batch to ~1e-7 relative, not to the check's float64 tolerance"
)
# name -> {check name: reason}
EXPECTED_FAILURES = {
    "AlignedMultimodalClassifier": {"check_methods_subset_invariance": _FLOAT32_INFERENCE},
    "AlignedMultimodalRegressor": {"check_methods_subset_invariance": _FLOAT32_INFERENCE},
}


def public_estimator_classes():
    modules = [alignkit] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(alignkit.__path__, "alignkit.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    found = {}
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[name] = obj
    return [found[name] for name in sorted(found)]


def _instances():
    return [
        cls(**params)
        for cls in public_estimator_classes()
        for params in [FAST_PARAMS.get(cls.__name__, {}), *EXTRA_CONFIGURATIONS.get(cls.__name__, [])]
    ]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


def test_discovery_sees_the_public_estimators():
    names = {cls.__name__ for cls in public_estimator_classes()}
    for name in alignkit.__all__:
        if inspect.isclass(getattr(alignkit, name)) and issubclass(getattr(alignkit, name), BaseEstimator):
            assert name in names


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
