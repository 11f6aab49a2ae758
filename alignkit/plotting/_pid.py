"""Stacked bars of a Partial Information Decomposition: R, U1, U2, S."""

from collections.abc import Mapping

import numpy as np

from ._base import _pyplot

_UNITS = ("bits", "nats")
_COMPONENTS = ("redundancy", "uniqueness1", "uniqueness2", "synergy")


class PIDDisplay:
    """Stacked bars of redundancy, the two uniquenesses and synergy.

    One bar per data set; the bar's height is the total information
    ``I(X1, X2; Y) = R + U1 + U2 + S``. Build it with :meth:`from_estimator`
    (one fitted :class:`~alignkit.PIDEstimator`), :meth:`from_estimators`
    (several, side by side) or directly from the values; then call
    :meth:`plot`.

    Parameters
    ----------
    redundancy : float or array-like of shape (n_datasets,)
        Redundancy R of each data set.
    uniqueness : array-like of shape (2,) or (n_datasets, 2)
        Uniqueness (U1, U2) of each data set.
    synergy : float or array-like of shape (n_datasets,)
        Synergy S of each data set.
    names : list of str, default=None
        Bar labels; ``None`` numbers the data sets (or leaves a single bar
        unlabelled).
    units : {"bits", "nats"}, default="bits"
        Units of the values, shown on the y axis.
    modality_names : pair of str, default=None
        Names of the two modalities, added to the legend's ``U1``, ``U2``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the bars.
    figure_ : matplotlib Figure
        The figure holding the axes.
    bars_ : dict of str to matplotlib BarContainer
        One bar container per component, keyed ``"redundancy"``,
        ``"uniqueness1"``, ``"uniqueness2"`` and ``"synergy"``.
    values_ : ndarray of shape (n_datasets, 4)
        The plotted R, U1, U2, S per data set.
    totals_ : list of matplotlib Annotation
        The ``I(X1,X2;Y)`` written above each bar (empty without
        ``show_total``).
    legend_ : matplotlib Legend
        The legend, right of the bars.

    See Also
    --------
    alignkit.PIDEstimator : The decomposition it draws.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit.plotting import PIDDisplay
    >>> disp = PIDDisplay(0.5, [0.1, 0.2], 0.3, names=["toy"]).plot()
    >>> [float(b.get_height()) for b in disp.bars_["synergy"]]
    [0.3]
    """

    def __init__(self, redundancy, uniqueness, synergy, *, names=None, units="bits",
                 modality_names=None):
        self.redundancy = redundancy
        self.uniqueness = uniqueness
        self.synergy = synergy
        self.names = names
        self.units = units
        self.modality_names = modality_names

    def _values(self):
        redundancy = np.atleast_1d(np.asarray(self.redundancy, dtype=float))
        n = redundancy.size
        if redundancy.ndim != 1:
            raise ValueError(f"redundancy must be a float or a 1-D array; got shape {redundancy.shape}.")
        uniqueness = np.asarray(self.uniqueness, dtype=float)
        if uniqueness.shape == (2,) and n == 1:
            uniqueness = uniqueness[np.newaxis]
        if uniqueness.shape != (n, 2):
            raise ValueError(
                "uniqueness must have shape (2,) for one data set or (n_datasets, 2); "
                f"got shape {np.shape(self.uniqueness)} for {n} data set(s)."
            )
        synergy = np.atleast_1d(np.asarray(self.synergy, dtype=float))
        if synergy.shape != (n,):
            raise ValueError(f"synergy must have the shape of redundancy, ({n},); got {synergy.shape}.")
        values = np.column_stack([redundancy, uniqueness, synergy])
        if not np.all(np.isfinite(values)):
            raise ValueError(f"PID values must be finite; got {values.tolist()}.")
        return values

    def plot(self, ax=None, *, colors=None, bar_kw=None, show_total=True):
        """Draw the stacked bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        colors : sequence of 4 colors, default=None
            Colors of R, U1, U2, S; ``None`` uses a fixed qualitative palette.
        bar_kw : dict, default=None
            Extra keyword arguments for every ``Axes.bar`` call.
        show_total : bool, default=True
            Write ``I(X1,X2;Y)`` above each bar.

        Returns
        -------
        self : PIDDisplay
            The display, with its artists stored as attributes.
        """
        plt = _pyplot("PIDDisplay.plot")
        if self.units not in _UNITS:
            raise ValueError(f"units must be one of {_UNITS}; got {self.units!r}.")
        values = self._values()
        n = values.shape[0]
        names = [f"{i}" for i in range(n)] if self.names is None else [str(v) for v in self.names]
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries for {n} data set(s).")
        uniques = ["unique U1", "unique U2"]
        if self.modality_names is not None:
            uniques = [f"{u} ({m})" for u, m in zip(uniques, self.modality_names)]
        labels = ["redundancy R", *uniques, "synergy S"]
        colors = colors or ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
        if ax is None:
            # Constrained layout keeps the y label and the outside legend in the figure.
            _, ax = plt.subplots(figsize=(max(3.2, 1.1 * n + 1.6) + 2.0, 3.6),
                                 layout="constrained")

        x = np.arange(n)
        bottoms = np.cumsum(values, axis=1) - values
        self.bars_ = {
            component: ax.bar(x, values[:, k], bottom=bottoms[:, k], color=colors[k],
                              label=labels[k], **(bar_kw or {}))
            for k, component in enumerate(_COMPONENTS)
        }
        self.totals_ = []
        if show_total:
            totals = values.sum(axis=1)
            for xi, total in zip(x, totals):
                self.totals_.append(ax.annotate(f"{total:.3g}", (xi, total), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize="small"))
            ax.set_ylim(0, max(totals.max(), 1e-12) * 1.15)
        ax.set_xticks(x, names if self.names is not None or n > 1 else [""])
        ax.set_ylabel(f"information ({self.units})")
        # Outside the bars, in stacking order (synergy on top), so it hides no total.
        handles, legend_labels = ax.get_legend_handles_labels()
        self.legend_ = ax.legend(handles[::-1], legend_labels[::-1], fontsize="small",
                                 loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        self.values_, self.ax_, self.figure_ = values, ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, pid, *, name=None, reference=None, reference_name="truth",
                       units=None, ax=None, **plot_kw):
        """Plot the PID of one fitted estimator, optionally beside a reference.

        Parameters
        ----------
        pid : PIDEstimator or mapping
            A fitted :class:`~alignkit.PIDEstimator` (``redundancy_``,
            ``uniqueness_``, ``synergy_``, ``units``), or any object or dict
            with ``redundancy``, ``uniqueness`` and ``synergy``, e.g. the
            exact decomposition of a joint distribution.
        name : str, default=None
            Label of the bar (``"estimate"`` when there is a reference).
        reference : PIDEstimator, PIDResult or mapping, default=None
            A decomposition drawn beside the estimate, e.g. the exact one of
            the generator's joint (:func:`~alignkit.pid.pid_from_joint`).
        reference_name : str, default="truth"
            Label of the reference's bar.
        units : {"bits", "nats"}, default=None
            Convert to these units; ``None`` keeps the estimator's.
        ax : matplotlib Axes, default=None
            Where to draw.
        **plot_kw : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : PIDDisplay
            The plotted display.
        """
        if reference is not None:
            bars = {name if name is not None else "estimate": pid, reference_name: reference}
        else:
            bars = {name: pid} if name is not None else [pid]
        return cls.from_estimators(bars, units=units, ax=ax, **plot_kw)

    @classmethod
    def from_estimators(cls, estimators, *, units=None, ax=None, **plot_kw):
        """Plot several decompositions side by side, one bar each.

        Parameters
        ----------
        estimators : dict of str to PIDEstimator or list of PIDEstimator
            Fitted estimators (or decompositions, see :meth:`from_estimator`);
            the keys of a dict label the bars.
        units : {"bits", "nats"}, default=None
            Common units of the plot; ``None`` requires the inputs to share
            theirs.
        ax : matplotlib Axes, default=None
            Where to draw.
        **plot_kw : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : PIDDisplay
            The plotted display.
        """
        names = list(estimators) if isinstance(estimators, Mapping) else None
        items = list(estimators.values()) if names is not None else list(estimators)
        if not items:
            raise ValueError("estimators must hold at least one fitted PID estimator.")
        decompositions = [_read_pid(item) for item in items]
        own_units = {d["units"] for d in decompositions if d["units"] is not None}
        if units is None:
            if len(own_units) > 1:
                raise ValueError(
                    f"The estimators use different units {sorted(own_units)}; pass "
                    "units='bits' or units='nats' to convert them."
                )
            units = own_units.pop() if own_units else "bits"
        if units not in _UNITS:
            raise ValueError(f"units must be one of {_UNITS}; got {units!r}.")
        values = np.array([
            _convert(d["values"], d["units"] or units, units) for d in decompositions
        ])
        modality_names = {d["modality_names"] for d in decompositions}
        return cls(
            values[:, 0], values[:, 1:3], values[:, 3], names=names, units=units,
            modality_names=modality_names.pop() if len(modality_names) == 1 else None,
        ).plot(ax=ax, **plot_kw)


def _read_pid(pid):
    """R, U1, U2, S (and units, modality names) from an estimator, object or dict."""
    def get(key):
        if isinstance(pid, Mapping):
            return pid.get(key, pid.get(key + "_"))
        return getattr(pid, key + "_", getattr(pid, key, None))

    parts = [get(key) for key in ("redundancy", "uniqueness", "synergy")]
    if any(part is None for part in parts):
        raise ValueError(
            f"{type(pid).__name__} has no PID values: expected a fitted PIDEstimator "
            "(redundancy_, uniqueness_, synergy_) or a mapping with 'redundancy', "
            "'uniqueness' and 'synergy'."
        )
    redundancy, uniqueness, synergy = parts
    uniqueness = np.asarray(uniqueness, dtype=float)
    if uniqueness.shape != (2,):
        raise ValueError(f"uniqueness must have shape (2,); got {uniqueness.shape}.")
    names = get("modality_names")
    if names is not None:
        # A PIDEstimator decomposes the modalities of its ``pair``.
        names = tuple(str(names[m]) for m in getattr(pid, "pair", (0, 1)))
    return {
        "values": np.array([float(redundancy), *uniqueness, float(synergy)]),
        "units": get("units"),
        "modality_names": names,
    }


def _convert(values, from_units, to_units):
    if from_units not in _UNITS:
        raise ValueError(f"units must be one of {_UNITS}; got {from_units!r}.")
    if from_units == to_units:
        return values
    return values / np.log(2) if to_units == "bits" else values * np.log(2)
