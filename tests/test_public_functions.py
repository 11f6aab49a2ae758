"""Every public function validates its parameters, as scikit-learn's own do.

The functions are discovered from ``__all__`` of ``alignkit`` and of every
public subpackage, so a new one cannot be missed: it either carries
``@validate_params`` with a constraint for each parameter, or is listed in
``NOT_VALIDATED`` with the reason. Modelled on scikit-learn's
``sklearn/tests/test_public_functions.py``.
"""

import importlib
import inspect
import pkgutil
from numbers import Integral, Real

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    generate_invalid_param_val,
    generate_valid_param,
    make_constraint,
)

import alignkit

# Functions with checks of their own, and why they keep them.
_PER_BATCH = "called on every training batch inside skorch's loop, outside sklearn's skip"
_CONTRACT = ("its own checks name the data-contract rule broken (tests/test_modalities.py); "
             "a type check first would answer with a less specific message")
_TABLES = "called on every table inside the PID routes (the solver's hot path)"
NOT_VALIDATED = {
    "alignkit.losses.multimodal_info_nce": _PER_BATCH,
    "alignkit.losses.symmetric_info_nce": _PER_BATCH,
    "alignkit.utils.entropy": _TABLES,
    "alignkit.utils.mutual_information": _TABLES,
    "alignkit.utils.conditional_mutual_information": _TABLES,
    "alignkit.utils.concat_modalities": _CONTRACT,
    "alignkit.utils.fit_modality_layout": _CONTRACT,
    "alignkit.utils.resolve_modalities": _CONTRACT,
    "alignkit.utils.split_modalities": _CONTRACT,
}


def _public_modules():
    yield alignkit
    for info in pkgutil.iter_modules(alignkit.__path__):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"alignkit.{info.name}")


def _public(kind):
    """``{qualified name: object}`` of the public names satisfying ``kind``, once each."""
    found = {}
    for module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if kind(obj) and obj not in found.values():
                found[f"{module.__name__}.{name}"] = obj
    return found


FUNCTIONS = _public(inspect.isfunction)
VALIDATED = {name: func for name, func in FUNCTIONS.items() if name not in NOT_VALIDATED}


def test_the_exemptions_are_public_functions_without_validation():
    assert set(NOT_VALIDATED) <= set(FUNCTIONS)
    for name in NOT_VALIDATED:
        assert not hasattr(FUNCTIONS[name], "_skl_parameter_constraints"), name
    assert len(VALIDATED) >= 20  # discovery found the metrics, PID, datasets, ...


def _parameters(func):
    return [p for p in inspect.signature(func).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("name", sorted(VALIDATED))
def test_function_validates_its_parameters(name):
    func = VALIDATED[name]
    assert hasattr(func, "_skl_parameter_constraints"), f"{name} lacks @validate_params"
    constraints = func._skl_parameter_constraints
    parameters = _parameters(func)
    assert set(constraints) == {p.name for p in parameters}, name

    required = {
        p.name: (1 if constraints[p.name] == "no_validation"
                 else generate_valid_param(make_constraint(constraints[p.name][0])))
        for p in parameters if p.default is p.empty
    }
    bad_type = type("BadType", (), {})()
    func_name = func.__qualname__
    for param, options in constraints.items():
        if options == "no_validation":
            continue
        intervals = {c.type for c in options if isinstance(c, Interval)}
        assert not {Integral, Real} <= intervals, f"{name}({param}): mixed Integral and Real"
        match = rf"The '{param}' parameter of {func_name} must be .* Got .* instead."
        with pytest.raises(InvalidParameterError, match=match):
            func(**{**required, param: bad_type})
        # A value of a valid type outside every valid range or option set.
        for constraint in map(make_constraint, options):
            try:
                bad_value = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            with pytest.raises(InvalidParameterError, match=match):
                func(**{**required, param: bad_value})


ESTIMATORS = _public(lambda obj: inspect.isclass(obj) and issubclass(obj, BaseEstimator))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_modality_dims_is_every_estimators_first_keyword_only_parameter(name):
    parameters = list(inspect.signature(ESTIMATORS[name].__init__).parameters.values())
    keyword_only = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    assert keyword_only[0] == "modality_dims", name
    assert ESTIMATORS[name]().modality_dims is None
