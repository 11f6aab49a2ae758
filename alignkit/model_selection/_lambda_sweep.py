"""Multi-seed λ sweeps whose differences from λ = 0 are paired by seed."""

import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, validate_params

__all__ = ["lambda_sweep"]


def _scorers(estimator, scoring):
    """``scoring`` as a dict ``name -> scorer``."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        name = scoring if isinstance(scoring, str) else "score"
        return {name: check_scoring(estimator, scoring)}
    if isinstance(scoring, dict):
        return {name: check_scoring(estimator, s) for name, s in scoring.items()}
    return {name: check_scoring(estimator, name) for name in scoring}


def _rows(data, index):
    return data.iloc[index] if hasattr(data, "iloc") else data[index]


def _fit_and_score(estimator, params, X, y, train, test, scorers):
    estimator = clone(estimator).set_params(**params)
    start = time.perf_counter()
    estimator.fit(_rows(X, train), _rows(y, train))
    fit_time = time.perf_counter() - start
    X_test, y_test = _rows(X, test), _rows(y, test)
    return {name: float(scorer(estimator, X_test, y_test)) for name, scorer in scorers.items()}, fit_time


def _summarise(scores, lams, baseline):
    import pandas as pd

    wide = scores.pivot_table(index=["scorer", "seed"], columns="lam", values="score")
    delta = wide.sub(wide[baseline], axis=0)
    rows = []
    for scorer in scores["scorer"].unique():
        values, diffs = wide.loc[scorer], delta.loc[scorer]
        n = len(values)
        for lam in lams:
            d, d_sem = diffs[lam].mean(), diffs[lam].std(ddof=1) / np.sqrt(n)
            rows.append({
                "lam": lam, "scorer": scorer, "n_seeds": n,
                "mean": values[lam].mean(), "sem": values[lam].std(ddof=1) / np.sqrt(n),
                "delta": d, "delta_sem": d_sem,
                # Undefined at the baseline and wherever every seed gives the same Δ.
                "t": d / d_sem if d_sem > 0 else np.nan,
            })
    return pd.DataFrame(rows)


@validate_params(
    {
        "estimator": [HasMethods(["fit", "get_params"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "lams": ["array-like"],
        "seeds": [Interval(Integral, 2, None, closed="left"), "array-like"],
        "test_size": [Interval(RealNotInt, 0, 1, closed="neither"), Interval(Integral, 1, None, closed="left"), None],
        "train_size": [Interval(RealNotInt, 0, 1, closed="neither"), Interval(Integral, 1, None, closed="left"), None],
        "scoring": [str, callable, list, tuple, dict, None],
        "param": [str],
        "baseline": [Real],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def lambda_sweep(estimator, X, y, *, lams, seeds=5, test_size=0.25, train_size=None,
                 scoring=None, param="lam", baseline=0.0, n_jobs=None, verbose=0):
    """Fit every (λ, seed) pair and compare each λ with λ = 0, paired by seed.

    For each seed ``s`` the data are split once into training and test rows
    (stratified for classifiers), and every λ is fitted on those rows with
    ``random_state=s``: the same training rows, initial weights and batch
    order. The differences ``Δ(λ, s) = score(λ, s) - score(baseline, s)``
    are therefore paired, and their spread across seeds excludes the
    seed-to-seed variation all λ share, which dominates the spread of the
    scores themselves. Fits run in parallel through joblib, so a
    ``joblib.parallel_backend("dask")`` context spreads them over a dask
    cluster.

    Parameters
    ----------
    estimator : estimator object
        Cloned for each fit; e.g. an :class:`~alignkit.AlignedMultimodalClassifier`
        or a :class:`~sklearn.pipeline.Pipeline` ending in one. Every
        parameter named ``random_state`` (or ``<step>__random_state``) is
        set to the seed.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    lams : array-like of float
        The λ values; must contain ``baseline``.
    seeds : int >= 2 or array-like of int, default=5
        The seeds, or their number (seeds ``0, ..., seeds - 1``). The s.e.
        needs at least 2.
    test_size, train_size : float, int or None, default=0.25, None
        Size of each seed's test and training rows, as in
        :func:`~sklearn.model_selection.train_test_split`.
    scoring : str, callable, list, tuple or dict, default=None
        Scorers: one (None: the estimator's ``score``), a list of scorer
        names, or a dict ``name -> scorer``, e.g. ``{"fused": "accuracy",
        "m0": modality_scorer(0), "cka": make_alignment_scorer("unbiased_cka")}``.
    param : str, default="lam"
        The swept parameter, e.g. ``"alignedmultimodalclassifier__lam"`` in a
        pipeline.
    baseline : float, default=0.0
        The λ every other λ is compared with.
    n_jobs : int, default=None
        Fits run in parallel (joblib semantics: None is 1 unless in a
        ``joblib.parallel_config`` context, -1 all cores).
    verbose : int, default=0
        Greater than 0: a progress bar over fits.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With keys:

        - ``summary``: pandas DataFrame, one row per (λ, scorer), with columns
          ``lam``, ``scorer``, ``n_seeds``, ``mean``, ``sem`` (standard error
          of the mean over seeds), ``delta`` (mean paired difference from the
          baseline), ``delta_sem`` (its standard error) and ``t`` (``delta /
          delta_sem``, a paired t statistic with ``n_seeds - 1`` degrees of
          freedom; NaN at the baseline and wherever every seed gives the same
          difference);
        - ``scores``: DataFrame of every fit's scores, columns ``seed``,
          ``lam``, ``scorer``, ``score``, ``fit_time`` (seconds);
        - ``lams``, ``seeds``, ``baseline``: what was swept.

    See Also
    --------
    alignkit.plotting.LambdaSweepDisplay.from_sweep : Plot the result.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import AlignedMultimodalClassifier
    >>> from alignkit.model_selection import lambda_sweep
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> X = np.c_[y[:, None] + rng.normal(size=(200, 2)), y[:, None] + rng.normal(size=(200, 2))]
    >>> model = AlignedMultimodalClassifier(modality_dims=[2, 2], hidden_dims=(8,), embed_dim=4,
    ...                                     projection_dim=4, max_epochs=3, batch_size=50)
    >>> sweep = lambda_sweep(model, X, y, lams=[0, 1], seeds=3, scoring="accuracy")
    >>> sweep.summary[["lam", "scorer", "n_seeds"]].values.tolist()
    [[0.0, 'accuracy', 3], [1.0, 'accuracy', 3]]
    >>> float(sweep.summary["delta"][0])
    0.0
    """
    import pandas as pd

    lams = np.asarray(lams, dtype=float)
    if lams.ndim != 1 or lams.size == 0 or not np.all(np.isfinite(lams)):
        raise ValueError(f"lams must be a non-empty 1-D list of finite numbers; got {lams.tolist()}.")
    lams = np.unique(lams)
    if baseline not in lams:
        raise ValueError(
            f"lams {lams.tolist()} do not contain the baseline {baseline:g}; the paired "
            "differences need it (add it, or pass baseline= one of them)."
        )
    seeds = list(range(seeds)) if isinstance(seeds, Integral) else [int(s) for s in seeds]
    if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be at least 2 distinct seeds; got {seeds}.")
    params = estimator.get_params()
    if param not in params:
        raise ValueError(f"{type(estimator).__name__} has no parameter {param!r}; pass param= "
                         "the swept parameter, e.g. '<step>__lam' in a pipeline.")
    seed_params = [k for k in params if k == "random_state" or k.endswith("__random_state")]
    scorers = _scorers(estimator, scoring)

    n_samples = len(X)
    stratify = y if is_classifier(estimator) else None
    splits = {s: train_test_split(np.arange(n_samples), test_size=test_size, train_size=train_size,
                                  random_state=s, stratify=stratify) for s in seeds}
    tasks = [(s, lam) for s in seeds for lam in lams]
    jobs = (
        delayed(_fit_and_score)(estimator, {param: lam, **dict.fromkeys(seed_params, s)},
                                X, y, *splits[s], scorers)
        for s, lam in tasks
    )
    from tqdm.auto import tqdm

    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    results = list(tqdm(results, total=len(tasks), desc="λ sweep", unit="fit", disable=not verbose))
    scores = pd.DataFrame([
        {"seed": s, "lam": lam, "scorer": name, "score": value, "fit_time": fit_time}
        for (s, lam), (fold_scores, fit_time) in zip(tasks, results)
        for name, value in fold_scores.items()
    ])
    return Bunch(summary=_summarise(scores, lams, float(baseline)), scores=scores,
                 lams=lams, seeds=seeds, baseline=float(baseline))
