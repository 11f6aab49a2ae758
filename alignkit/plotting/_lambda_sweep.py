"""Performance and alignment against the contrastive weight λ."""

import re

import numpy as np

from ..utils._docstrings import Substitution
from ._alignment_matrix import metric_label
from ._base import _as_labelled, _as_series, _pyplot

# Scorer-name fragments that mark an alignment score in ``cv_results_``.
_ALIGNMENT_HINTS = ("cka", "knn", "cca", "align")
_XSCALES = ("symlog", "linear", "log")

# The parameters and result that from_cv_results and from_sweep document alike.
_SHARED_DOCS = Substitution(
    scores="""scores : list of str or dict of str to str, default=None
    Scorer names drawn on the performance axes (a dict maps each to its
    legend label; scorer keys are shown in words, ``"acc_m0"`` as
    ``"modality m0"``). ``None``: every scorer not in ``alignment``.""",
    alignment_scores="""alignment : list of str or dict of str to str, default=None
    Scorer names drawn on the alignment axes. ``None``: those whose name
    contains ``"cka"``, ``"knn"``, ``"cca"`` or ``"align"``; ``[]`` draws
    none.""",
    ax_and_returns="""ax : matplotlib Axes or pair of Axes, default=None
    Where to draw; see :meth:`plot`.
**plot_kw : dict
    Further keyword arguments of :meth:`plot`.

Returns
-------
display : LambdaSweepDisplay
    The plotted display.""",
)


class LambdaSweepDisplay:
    """Performance and alignment against λ, with the best λ marked.

    Build it with :meth:`from_sweep` from a multi-seed
    :func:`~alignkit.model_selection.lambda_sweep` (means ± s.e. as error
    bars, or paired differences from λ = 0 with their band), with
    :meth:`from_cv_results` from a :class:`~sklearn.model_selection.GridSearchCV`
    over ``lam`` (± std of the CV folds as a band), or directly from the
    values of your own sweep; then call :meth:`plot`.

    Parameters
    ----------
    lambdas : array-like of shape (n_lambdas,)
        The λ values, in increasing order.
    performance : dict of str to array-like of shape (n_lambdas,) or array-like
        Performance curves, e.g. ``{"fused": ..., "m0": ..., "m1": ...}``; a
        single array is one curve named ``performance_name``. Scorer keys
        are written out in the legend: ``"acc"`` as ``"fused"``, ``"m0"``
        or ``"acc_m0"`` as ``"modality m0"``, ``"unbiased_cka"`` as
        ``"unbiased CKA"``; other keys are shown as they are.
    alignment : dict of str to array-like of shape (n_lambdas,) or array-like, \
            default=None
        Alignment curves (CKA, mutual k-NN, ...); ``None`` draws none.
    performance_std, alignment_std : dict of str to array-like, default=None
        Spread of each curve (e.g. across CV folds), drawn as a band; keys are a
        subset of the curves' keys.
    performance_err, alignment_err : dict of str to array-like, default=None
        Uncertainty of each curve (e.g. the standard error over seeds), drawn
        as error bars; keys are a subset of the curves' keys.
    ceilings : dict of str to float, default=None
        Horizontal dotted lines on the performance axes, keyed by the curve
        they bound and drawn in its colour, e.g. each model's Bayes accuracy.
    baseline : float, default=None
        When the curves are differences from the value at λ = ``baseline``:
        a line at 0 is drawn and ``baseline`` is recorded.
    best_lambda : float, default=None
        The selected λ*, marked with a vertical line; ``None`` marks nothing.
    param_name : str, default="lam"
        Name of the swept parameter, shown on the x axis.
    performance_name : str, default="performance"
        Label of the performance axis.
    alignment_name : str, default="alignment"
        Label of the alignment axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The performance axes.
    ax_alignment_ : matplotlib Axes or None
        The alignment axes: a second panel, or a twin y axis of ``ax_``.
    figure_ : matplotlib Figure
        The figure holding the axes.
    lines_ : dict of str to matplotlib Line2D
        One line per curve, keyed like ``performance`` and ``alignment``.
    best_lambda_lines_ : list of matplotlib Line2D
        The vertical λ* markers, one per axes (empty without ``best_lambda``).
    ceiling_lines_ : dict of str to matplotlib Line2D
        The ``ceilings`` lines, keyed like ``ceilings``.
    bands_ : dict of str to matplotlib PolyCollection
        The ± std bands, keyed like the curves that have one.
    errorbars_ : dict of str to matplotlib ErrorbarContainer
        The error bars, keyed like the curves that have them.

    See Also
    --------
    alignkit.model_selection.lambda_sweep : The multi-seed sweep it draws.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit.plotting import LambdaSweepDisplay
    >>> disp = LambdaSweepDisplay(
    ...     [0, 0.5, 1], {"fused": [0.70, 0.74, 0.72]}, {"cka": [0.1, 0.4, 0.6]},
    ...     best_lambda=0.5,
    ... ).plot()
    >>> disp.lines_["cka"].get_ydata().tolist()
    [0.1, 0.4, 0.6]
    """

    def __init__(
        self,
        lambdas,
        performance,
        alignment=None,
        *,
        performance_std=None,
        alignment_std=None,
        performance_err=None,
        alignment_err=None,
        ceilings=None,
        baseline=None,
        best_lambda=None,
        param_name="lam",
        performance_name="performance",
        alignment_name="alignment",
    ):
        self.lambdas = lambdas
        self.performance = performance
        self.alignment = alignment
        self.performance_std = performance_std
        self.alignment_std = alignment_std
        self.performance_err = performance_err
        self.alignment_err = alignment_err
        self.ceilings = ceilings
        self.baseline = baseline
        self.best_lambda = best_lambda
        self.param_name = param_name
        self.performance_name = performance_name
        self.alignment_name = alignment_name

    def _checked_curves(self, curves, spreads, errors, name, n):
        curves = {
            label: _as_series(values, n, f"{name}[{label!r}]")
            for label, values in _as_labelled(curves, name).items()
        }
        checked = []
        for suffix, extra in [("std", spreads), ("err", errors)]:
            extra = _as_labelled(extra, name)
            unknown = sorted(set(extra) - set(curves))
            if unknown:
                raise ValueError(
                    f"{name}_{suffix} has keys {unknown} that match no curve of {name} "
                    f"(curves: {sorted(curves)})."
                )
            checked.append({
                label: _as_series(values, n, f"{name}_{suffix}[{label!r}]")
                for label, values in extra.items()
            })
        return curves, *checked

    def plot(self, ax=None, *, xscale="symlog", line_kw=None, band_alpha=0.2):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or pair of Axes, default=None
            One Axes: alignment goes on a twin y axis. Two Axes: performance on
            the first, alignment on the second. ``None``: a new figure with
            one panel per quantity.
        xscale : {"symlog", "linear", "log"}, default="symlog"
            Scale of the λ axis. ``"symlog"`` is linear below the smallest
            positive λ and logarithmic above, so λ = 0 and a geometric grid
            both stay readable.
        line_kw : dict, default=None
            Extra keyword arguments for every ``Axes.plot`` call.
        band_alpha : float, default=0.2
            Opacity of the ± std bands.

        Returns
        -------
        self : LambdaSweepDisplay
            The display, with its artists stored as attributes.
        """
        plt = _pyplot("LambdaSweepDisplay.plot")
        lambdas = np.asarray(self.lambdas, dtype=float)
        if lambdas.ndim != 1 or lambdas.size == 0:
            raise ValueError(f"lambdas must be a non-empty 1-D array; got shape {lambdas.shape}.")
        if np.any(np.diff(lambdas) <= 0):
            raise ValueError(f"lambdas must be strictly increasing; got {lambdas.tolist()}.")
        if xscale not in _XSCALES:
            raise ValueError(f"xscale must be one of {_XSCALES}; got {xscale!r}.")
        if xscale == "log" and lambdas[0] <= 0:
            raise ValueError(
                "xscale='log' cannot show λ <= 0; use xscale='symlog' (the default)."
            )
        n = lambdas.size
        performance, performance_std, performance_err = self._checked_curves(
            self.performance, self.performance_std, self.performance_err, "performance", n
        )
        if not performance:
            raise ValueError("performance must hold at least one curve.")
        alignment, alignment_std, alignment_err = self._checked_curves(
            self.alignment, self.alignment_std, self.alignment_err, "alignment", n
        )
        ceilings = dict(self.ceilings or {})
        unknown = sorted(set(ceilings) - set(performance))
        if unknown:
            raise ValueError(f"ceilings has keys {unknown} that match no performance curve "
                             f"(curves: {sorted(performance)}).")

        twin = False
        if ax is None:
            n_panels = 2 if alignment else 1
            _, axes = plt.subplots(
                n_panels, 1, sharex=True, squeeze=False, figsize=(6.4, 2.6 * n_panels + 0.6),
                layout="constrained",
            )
            ax, ax_alignment = axes[0, 0], (axes[1, 0] if alignment else None)
        elif np.iterable(ax):
            if len(ax) != 2:
                raise ValueError(f"ax must be one Axes or a pair of Axes; got {len(ax)} Axes.")
            ax, ax_alignment = ax
        else:
            twin = bool(alignment)
            ax_alignment = ax.twinx() if twin else None

        line_kw = {"marker": "o", **(line_kw or {})}
        self.lines_, self.ceiling_lines_, self.bands_, self.errorbars_ = {}, {}, {}, {}
        colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
        groups = [(ax, performance, performance_std, performance_err, "-")]
        if alignment:
            groups.append(
                (ax_alignment, alignment, alignment_std, alignment_err, "--" if twin else "-")
            )
        for target, curves, spreads, errors, linestyle in groups:
            for label, values in curves.items():
                color = next(colors)
                (self.lines_[label],) = target.plot(
                    lambdas, values, label=scorer_label(label), color=color,
                    **{"linestyle": linestyle, **line_kw},
                )
                if label in spreads:
                    self.bands_[label] = target.fill_between(
                        lambdas, values - spreads[label], values + spreads[label],
                        color=color, alpha=band_alpha, linewidth=0,
                    )
                if label in errors:
                    self.errorbars_[label] = target.errorbar(lambdas, values, yerr=errors[label], fmt="none",
                                    ecolor=color, capsize=3)
                if target is ax and label in ceilings:
                    self.ceiling_lines_[label] = target.axhline(
                        float(ceilings[label]), color=color, linestyle=":", linewidth=1,
                        label=f"{scorer_label(label)} ceiling",
                    )
        if self.baseline is not None:
            ax.axhline(0.0, color="0.3", linewidth=0.8)

        self.best_lambda_lines_ = []
        if self.best_lambda is not None:
            for target in [ax] if twin or ax_alignment is None else [ax, ax_alignment]:
                self.best_lambda_lines_.append(
                    target.axvline(
                        float(self.best_lambda), color="k", linestyle=":",
                        label=f"λ* = {float(self.best_lambda):g}",
                    )
                )

        for target in [ax] if ax_alignment is None else [ax, ax_alignment]:
            if xscale == "symlog":
                positive = lambdas[lambdas > 0]
                if positive.size:
                    target.set_xscale("symlog", linthresh=positive.min())
            else:
                target.set_xscale(xscale)
            target.set_xticks(lambdas, [f"{v:g}" for v in lambdas])
            target.minorticks_off()
            # Margins measured on the drawn scale: symlog's default would leave a
            # linear stretch left of λ = 0, and none would halve the end markers.
            scale = target.xaxis.get_transform()
            ends = scale.transform(lambdas[[0, -1]].reshape(-1, 1)).ravel()
            pad = 0.05 * max(ends[1] - ends[0], 1e-12)
            target.set_xlim(scale.inverted().transform([[ends[0] - pad], [ends[1] + pad]]).ravel())
        ax.set_ylabel(self.performance_name)
        (ax_alignment if ax_alignment is not None and not twin else ax).set_xlabel(
            f"λ ({self.param_name})"
        )
        if ax_alignment is not None:
            ax_alignment.set_ylabel(self.alignment_name)
        if twin:
            handles = ax.get_legend_handles_labels()
            more = ax_alignment.get_legend_handles_labels()
            ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize="small")
        else:
            for target in [ax] if ax_alignment is None else [ax, ax_alignment]:
                target.legend(fontsize="small")

        self.ax_, self.ax_alignment_, self.figure_ = ax, ax_alignment, ax.figure
        return self

    @classmethod
    @_SHARED_DOCS
    def from_cv_results(
        cls,
        cv_results,
        *,
        param="lam",
        scores=None,
        alignment=None,
        best_score=None,
        performance_name="performance",
        alignment_name="alignment",
        ax=None,
        **plot_kw,
    ):
        """Plot a grid search over λ from its ``cv_results_``.

        Parameters
        ----------
        cv_results : dict
            ``GridSearchCV.cv_results_`` (or the same keys): ``param_<param>``
            and, per scorer ``name``, ``mean_test_<name>`` (``std_test_<name>``
            and ``rank_test_<name>`` are used when present). Each λ must occur
            once: fix every other parameter of the grid.
        param : str, default="lam"
            The swept parameter. A pipeline's ``<step>__lam`` is found too.
        {scores}
            E.g. ``"acc"``, ``"acc_m0"``, ``"acc_m1"``.
        {alignment_scores}
        best_score : str, default=None
            The scorer whose best mean marks λ*; ``None``: the first of
            ``scores`` (e.g. the fused accuracy ``"acc"``).
        performance_name, alignment_name : str
            Axis labels.
        {ax_and_returns}
        """
        lambdas = np.asarray(_param_column(cv_results, param), dtype=float)
        if np.unique(lambdas).size != lambdas.size:
            raise ValueError(
                f"cv_results has {lambdas.size} candidates but only "
                f"{np.unique(lambdas).size} distinct values of {param!r}: other "
                "parameters vary too. Keep one candidate per λ (fix the others)."
            )
        order = np.argsort(lambdas)
        names = [key[len("mean_test_"):] for key in cv_results if key.startswith("mean_test_")]
        if not names:
            raise ValueError("cv_results has no 'mean_test_<scorer>' key; pass a GridSearchCV's cv_results_.")
        if alignment is None:
            alignment = [n for n in names if any(h in n.lower() for h in _ALIGNMENT_HINTS)]
        alignment = _labels(alignment)
        scores = _labels([n for n in names if n not in alignment] if scores is None else scores)
        missing = [name for name in [*scores, *alignment] if name not in names]
        if missing:
            raise ValueError(f"cv_results has no scorer {missing}; its scorers are {names}.")
        if not scores:
            raise ValueError(f"No performance scorer left: all of {names} are alignment scorers.")
        best_score = next(iter(scores)) if best_score is None else best_score
        if best_score not in names:
            raise ValueError(f"best_score={best_score!r} is not a scorer of cv_results ({names}).")
        means = np.asarray(cv_results[f"mean_test_{best_score}"], dtype=float)
        ranks = cv_results.get(f"rank_test_{best_score}")
        best = int(np.argmin(ranks)) if ranks is not None else int(np.nanargmax(means))

        def curves(selected, stat):
            return {
                label: np.asarray(cv_results[f"{stat}_test_{name}"], dtype=float)[order]
                for name, label in selected.items()
                if f"{stat}_test_{name}" in cv_results
            }

        return cls(
            lambdas[order],
            curves(scores, "mean"),
            curves(alignment, "mean") or None,
            performance_std=curves(scores, "std") or None,
            alignment_std=curves(alignment, "std") or None,
            best_lambda=lambdas[best],
            param_name=param,
            performance_name=performance_name,
            alignment_name=alignment_name,
        ).plot(ax=ax, **plot_kw)


    @classmethod
    @_SHARED_DOCS
    def from_sweep(
        cls,
        sweep,
        *,
        scores=None,
        alignment=None,
        delta=False,
        ceilings=None,
        best_score=None,
        performance_name=None,
        alignment_name=None,
        ax=None,
        **plot_kw,
    ):
        """Plot a multi-seed sweep from :func:`~alignkit.model_selection.lambda_sweep`.

        Parameters
        ----------
        sweep : Bunch or DataFrame
            What :func:`~alignkit.model_selection.lambda_sweep` returned, or
            its ``summary`` table.
        {scores}
        {alignment_scores}
        delta : bool, default=False
            False: each scorer's mean over seeds with ± s.e. error bars.
            True: the paired difference Δ from the baseline λ with its
            ± s.e. band, around a line at 0.
        ceilings : dict of str to float, default=None
            Per performance scorer, a ceiling drawn as a dotted line in its
            colour (e.g. its Bayes accuracy); only with ``delta=False``.
        best_score : str, default=None
            Mark λ* as the λ with this scorer's best mean; ``None`` marks
            nothing (a best mean alone is no evidence of an effect: read Δ
            and its s.e.).
        performance_name, alignment_name : str, default=None
            Axis labels; ``None``: ``"score"`` / ``"alignment"``, prefixed by
            ``"Δ "`` with ``delta=True``.
        {ax_and_returns}
        """
        summary = getattr(sweep, "summary", sweep)
        required = {"lam", "scorer", "mean", "sem", "delta", "delta_sem"}
        if not hasattr(summary, "columns") or not required <= set(summary.columns):
            raise ValueError("sweep must be what lambda_sweep returned or its summary table, "
                             f"with columns {sorted(required)}.")
        if delta and ceilings:
            raise ValueError("ceilings bound scores, not differences; pass them with delta=False.")
        names = list(dict.fromkeys(summary["scorer"]))
        if alignment is None:
            alignment = [n for n in names if any(h in n.lower() for h in _ALIGNMENT_HINTS)]
        alignment = _labels(alignment)
        scores = _labels([n for n in names if n not in alignment] if scores is None else scores)
        missing = [n for n in [*scores, *alignment, *(ceilings or {})] if n not in names]
        if missing:
            raise ValueError(f"the sweep has no scorer {missing}; its scorers are {names}.")
        if not scores:
            raise ValueError(f"No performance scorer left: all of {names} are alignment scorers.")
        table = summary.pivot(index="lam", columns="scorer")
        value, spread = ("delta", "delta_sem") if delta else ("mean", "sem")

        def curves(selected, stat):
            return {label: table[stat][name].to_numpy(float) for name, label in selected.items()}

        best_lambda = None
        if best_score is not None:
            if best_score not in names:
                raise ValueError(f"best_score={best_score!r} is not a scorer of the sweep ({names}).")
            best_lambda = table.index[int(np.nanargmax(table["mean"][best_score]))]
        prefix = "Δ " if delta else ""
        bands = {"performance_std": curves(scores, spread),
                 "alignment_std": curves(alignment, spread) or None} if delta else {
                 "performance_err": curves(scores, spread),
                 "alignment_err": curves(alignment, spread) or None}
        return cls(
            table.index.to_numpy(float),
            curves(scores, value),
            curves(alignment, value) or None,
            ceilings={scores[n]: v for n, v in (ceilings or {}).items() if n in scores} or None,
            baseline=_baseline(sweep, table) if delta else None,
            best_lambda=best_lambda,
            performance_name=performance_name or f"{prefix}score",
            alignment_name=alignment_name or f"{prefix}alignment",
            **bands,
        ).plot(ax=ax, **plot_kw)


def _baseline(sweep, table):
    """The sweep's baseline λ: recorded in its Bunch, or where every Δ and its s.e. is 0."""
    if getattr(sweep, "baseline", None) is not None:
        return float(sweep.baseline)
    zero = ((table["delta"] == 0) & (table["delta_sem"] == 0)).all(axis=1).to_numpy()
    return float(table.index[zero][0]) if zero.any() else 0.0


def _labels(selected):
    """Scorer names as a dict ``name -> curve key``."""
    if isinstance(selected, str):
        selected = [selected]
    return dict(selected) if isinstance(selected, dict) else {name: name for name in selected}


def scorer_label(name):
    """A scorer key in words: ``"acc"`` -> ``"fused"``, ``"acc_m0"`` -> ``"modality m0"``.

    Modalities keep their names (``modality_names_``, else ``m0``, ``m1``,
    ...); alignment scorers are named as on a colorbar (``"unbiased CKA"``).
    """
    if name in ("acc", "accuracy", "fused", "score"):
        return "fused"
    if match := re.fullmatch(r"(?:(?:acc|accuracy|score)_)?(m\d+)", name):
        return f"modality {match.group(1)}"
    if match := re.fullmatch(r"(?:acc|accuracy)_(\w+)", name):
        return f"modality {match.group(1)}"
    return {"cka": "CKA", "knn": "mutual k-NN overlap"}.get(name, metric_label(name))


def _param_column(cv_results, param):
    key = f"param_{param}"
    if key in cv_results:
        return cv_results[key]
    nested = [k for k in cv_results if k.startswith("param_") and k.endswith(f"__{param}")]
    if len(nested) == 1:
        return cv_results[nested[0]]
    available = [k for k in cv_results if k.startswith("param_")]
    raise ValueError(
        f"cv_results has no column 'param_{param}' (nor one '<step>__{param}'); "
        f"its parameter columns are {available}. Pass param= the swept parameter."
    )
