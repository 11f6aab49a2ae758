"""Heatmap of an alignment metric over pairs of layers (or of modalities)."""

import numpy as np

from ..metrics import adjust_pvalues, alignment_matrix, alignment_test, layer_alignment_matrix
from ..utils._modalities import check_pair_index, modality_index
from ._base import _pyplot


class AlignmentMatrixDisplay:
    """Heatmap of alignment between every pair of layers (or modalities).

    The "Emergence" paper reports, for two independently trained encoders,
    the best alignment over all layer pairs; this display shows the whole
    matrix and outlines that maximum. Build it with :meth:`from_estimator`,
    :meth:`from_representations` or directly from a matrix; then call
    :meth:`plot`.

    With permutation p-values (``pvalues``, or ``n_permutations`` of the
    ``from_*`` methods), the cells whose alignment is not above chance are
    hatched. Testing every cell of a matrix at level ``alpha`` would flag
    about ``alpha`` of the unaligned cells by chance, so the p-values are
    adjusted over the whole matrix first: ``correction="holm"`` (the
    default) bounds the probability that *any* unhatched cell is not above
    chance by ``alpha``; ``"bh"`` (Benjamini-Hochberg) bounds the expected
    share of such cells among the unhatched ones, and hatches fewer.

    Parameters
    ----------
    matrix : array-like of shape (n_rows, n_cols)
        ``matrix[i, j]`` is the alignment of row representation ``i`` with
        column representation ``j``.
    row_labels, col_labels : list of str, default=None
        Tick labels; ``None`` numbers the rows / columns.
    row_name, col_name : str, default=None
        Axis labels, e.g. the two modalities' names.
    metric : str, default=None
        The colorbar's label; a metric's short name (``"unbiased_cka"``) is
        written out in words (``"unbiased CKA"``).
    pvalues : array-like of shape (n_rows, n_cols), default=None
        Permutation p-values of the entries (see
        :func:`~alignkit.metrics.alignment_test`); ``None`` marks nothing.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the heatmap.
    figure_ : matplotlib Figure
        The figure holding the axes.
    im_ : matplotlib AxesImage
        The heatmap.
    text_ : ndarray of shape (n_rows, n_cols) of matplotlib Text, or None
        The printed values, ``None`` without ``include_values``.
    max_index_ : tuple of int
        ``(i, j)`` of the largest entry (off the diagonal with
        ``mask_diagonal``).
    max_marker_ : matplotlib Rectangle or None
        Outline of the largest entry, ``None`` without ``mark_max``.
    colorbar_ : matplotlib Colorbar or None
        The colorbar, ``None`` without ``colorbar``.
    diagonal_mask_ : ndarray of bool of shape (n_rows, n_cols)
        The cells left blank (the diagonal with ``mask_diagonal``).
    adjusted_pvalues_ : ndarray of shape (n_rows, n_cols) or None
        ``pvalues`` adjusted over the matrix; ``None`` without ``pvalues``.
    significant_ : ndarray of bool of shape (n_rows, n_cols) or None
        Cells above chance: ``adjusted_pvalues_ <= alpha``.
    nonsignificant_markers_ : list of matplotlib Rectangle
        The hatching of the other cells.

    See Also
    --------
    alignkit.metrics.alignment_matrix : The matrix it draws.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from alignkit.plotting import AlignmentMatrixDisplay
    >>> disp = AlignmentMatrixDisplay([[0.2, 0.5], [0.3, 0.4]], metric="CKA").plot()
    >>> disp.max_index_
    (0, 1)
    """

    def __init__(self, matrix, *, row_labels=None, col_labels=None, row_name=None,
                 col_name=None, metric=None, pvalues=None):
        self.matrix = matrix
        self.row_labels = row_labels
        self.col_labels = col_labels
        self.row_name = row_name
        self.col_name = col_name
        self.metric = metric
        self.pvalues = pvalues

    def plot(self, ax=None, *, cmap="viridis", include_values=True, values_format=".2f",
             colorbar=True, mark_max=True, vmin=None, vmax=None, im_kw=None, text_kw=None,
             alpha=0.05, correction="holm", mask_diagonal=False):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new figure.
        cmap : str or matplotlib Colormap, default="viridis"
            Colormap of the heatmap.
        include_values : bool, default=True
            Print each entry in its cell.
        values_format : str, default=".2f"
            Format specification of the printed entries.
        colorbar : bool, default=True
            Add a colorbar.
        mark_max : bool, default=True
            Outline the largest entry (the best layer pair).
        vmin, vmax : float, default=None
            Color limits; ``None``: from 0 (or the smallest entry, when
            negative) to the largest entry, so that the colours read as
            alignment above none rather than as the spread of the entries.
        im_kw : dict, default=None
            Extra keyword arguments for ``Axes.imshow``.
        text_kw : dict, default=None
            Extra keyword arguments for the ``Axes.text`` of every value.
        alpha : float in (0, 1), default=0.05
            Level below which an adjusted p-value counts as above chance.
        correction : {"holm", "bh"}, default="holm"
            Adjustment of the p-values over the matrix (see the class notes).
        mask_diagonal : bool, default=False
            Leave the diagonal blank, out of the colour scale and of the best
            pair: for a square matrix of representations against themselves,
            whose diagonal is trivially maximal.

        Returns
        -------
        self : AlignmentMatrixDisplay
            The display, with its artists stored as attributes.
        """
        plt = _pyplot("AlignmentMatrixDisplay.plot")
        from matplotlib.patches import Rectangle

        matrix = np.asarray(self.matrix, dtype=float)
        if matrix.ndim != 2 or 0 in matrix.shape:
            raise ValueError(f"matrix must be a non-empty 2-D array; got shape {matrix.shape}.")
        if not np.all(np.isfinite(matrix)):
            raise ValueError("matrix must contain finite values only.")
        n_rows, n_cols = matrix.shape
        row_labels = _tick_labels(self.row_labels, n_rows, "row_labels")
        col_labels = _tick_labels(self.col_labels, n_cols, "col_labels")
        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 + 0.7 * n_cols + colorbar, 1.2 + 0.6 * n_rows),
                                 layout="constrained")

        self.diagonal_mask_ = np.zeros(matrix.shape, dtype=bool)
        if mask_diagonal:
            if n_rows != n_cols or n_rows < 2:
                raise ValueError("mask_diagonal needs a square matrix of at least 2 x 2; got "
                                 f"shape {matrix.shape}.")
            np.fill_diagonal(self.diagonal_mask_, True)
        shown = np.ma.masked_array(matrix, self.diagonal_mask_)
        if vmin is None:
            vmin = min(0.0, float(shown.min()))
        if vmax is None:
            vmax = max(float(shown.max()), vmin + 1e-12)
        self.im_ = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, **(im_kw or {}))
        self.text_ = None
        if include_values:
            # Dark text on light cells and the reverse, as the colormap runs.
            threshold = np.mean(self.im_.get_clim())
            cmap_obj = self.im_.cmap
            self.text_ = np.empty_like(matrix, dtype=object)
            for (i, j), value in np.ndenumerate(matrix):
                if self.diagonal_mask_[i, j]:
                    continue
                kw = {"ha": "center", "va": "center", "fontsize": "small",
                      "color": cmap_obj(0.0) if value > threshold else cmap_obj(1.0),
                      **(text_kw or {})}
                self.text_[i, j] = ax.text(j, i, format(value, values_format), **kw)
        self.adjusted_pvalues_ = self.significant_ = None
        self.nonsignificant_markers_ = []
        if self.pvalues is not None:
            pvalues = np.asarray(self.pvalues, dtype=float)
            if pvalues.shape != matrix.shape:
                raise ValueError(f"pvalues has shape {pvalues.shape}; the matrix has {matrix.shape}.")
            if not 0 < alpha < 1:
                raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
            self.adjusted_pvalues_ = adjust_pvalues(pvalues, correction)
            self.significant_ = self.adjusted_pvalues_ <= alpha
            for i, j in zip(*np.nonzero(~self.significant_)):
                self.nonsignificant_markers_.append(ax.add_patch(Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", edgecolor="0.6",
                    linewidth=0)))
        self.max_index_ = tuple(int(k) for k in np.unravel_index(
            np.argmax(np.where(self.diagonal_mask_, -np.inf, matrix)), matrix.shape))
        self.max_marker_ = None
        if mark_max:
            i, j = self.max_index_
            self.max_marker_ = ax.add_patch(
                Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
            )
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(self.im_, ax=ax, label=metric_label(self.metric))
        ax.set_xticks(np.arange(n_cols), col_labels)
        ax.set_yticks(np.arange(n_rows), row_labels)
        if self.col_name is not None:
            ax.set_xlabel(self.col_name)
        if self.row_name is not None:
            ax.set_ylabel(self.row_name)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, modalities=(0, 1), metric="unbiased_cka",
                       metric_kwargs=None, n_permutations=0, random_state=None, n_jobs=None,
                       ax=None, **plot_kw):
        """Plot the alignment between every layer pair of two modalities' encoders.

        Parameters
        ----------
        estimator : fitted estimator with ``transform_layers``
            E.g. an :class:`~alignkit.AlignedMultimodalClassifier`;
            ``transform_layers(X)[m][l]`` is layer ``l`` of modality ``m``.
        X : array-like of shape (n_samples, n_features)
            The samples to embed.
        modalities : pair of int or str, default=(0, 1)
            The modalities on the rows and on the columns (index or name).
        metric : str or callable, default="unbiased_cka"
            See :meth:`from_representations`.
        metric_kwargs : dict, default=None
            Options of the metric.
        n_permutations : int, default=0
            Permutations of each cell's test against chance; 0 tests nothing.
        random_state : int, RandomState instance or None, default=None
            Seeds the permutations.
        n_jobs : int, default=None
            Threads for the permutations.
        ax : matplotlib Axes, default=None
            Where to draw.
        **plot_kw : dict
            Further keyword arguments of :meth:`plot` (``alpha``,
            ``correction``, ...).

        Returns
        -------
        display : AlignmentMatrixDisplay
            The plotted display.
        """
        if not hasattr(estimator, "transform_layers"):
            raise TypeError(
                f"{type(estimator).__name__} has no transform_layers method; use "
                "from_representations with the layers' outputs instead."
            )
        names = list(getattr(estimator, "modality_names_", []))
        try:
            # Names are looked up in modality_names_; layer_alignment_matrix checks indices.
            index = tuple(modality_index(m, names) if isinstance(m, str) else m
                          for m in modalities)
            pvalues = None
            if n_permutations:
                layers = estimator.transform_layers(X)
                i, j = check_pair_index(index, len(layers))
                matrix, pvalues = _tested_matrix(layers[i], layers[j], metric, metric_kwargs,
                                                 n_permutations, random_state, n_jobs)
            else:
                matrix = layer_alignment_matrix(estimator, X, pair=index, metric=metric,
                                                **(metric_kwargs or {}))
        except ValueError as exc:
            raise ValueError(f"modalities={modalities!r}: {exc}") from exc
        row_name, col_name = (
            f"{names[m] if names else f'm{m}'} layer" for m in index
        )
        return cls(
            matrix, row_name=row_name, col_name=col_name,
            metric=metric_label(metric, **(metric_kwargs or {})), pvalues=pvalues,
        ).plot(ax=ax, **plot_kw)

    @classmethod
    def from_representations(cls, rows, cols, *, metric="unbiased_cka", metric_kwargs=None,
                             row_labels=None, col_labels=None, row_name=None,
                             col_name=None, n_permutations=0, random_state=None, n_jobs=None,
                             ax=None, **plot_kw):
        """Compute and plot the alignment of every pair of representations.

        Parameters
        ----------
        rows, cols : list of array-like of shape (n_samples, n_features_k)
            Representations of the same samples, e.g. every hidden layer of
            two encoders; the widths may differ.
        metric : str or callable, default="unbiased_cka"
            A metric of :func:`alignkit.metrics.alignment_matrix`
            (``"unbiased_cka"``, ``"linear_cka"``, ``"mutual_knn"``, ...) or a
            callable ``metric(A, B) -> float``.
        metric_kwargs : dict, default=None
            Options of the metric (``k``, ``clip_quantile``, ...).
        row_labels, col_labels : list of str, default=None
            Tick labels; ``None``: ``"layer 0"``, ``"layer 1"``, ...
        row_name, col_name : str, default=None
            Axis labels.
        n_permutations : int, default=0
            Permutations of each cell's test against chance
            (:func:`~alignkit.metrics.alignment_test`); the cells not above
            chance after the ``correction`` are hatched. 0 tests nothing.
        random_state : int, RandomState instance or None, default=None
            Seeds the permutations.
        n_jobs : int, default=None
            Threads for the permutations.
        ax : matplotlib Axes, default=None
            Where to draw.
        **plot_kw : dict
            Further keyword arguments of :meth:`plot` (``alpha``,
            ``correction``, ...).

        Returns
        -------
        display : AlignmentMatrixDisplay
            The plotted display.
        """
        pvalues = None
        if n_permutations:
            matrix, pvalues = _tested_matrix(rows, cols, metric, metric_kwargs, n_permutations,
                                             random_state, n_jobs)
        else:
            matrix = alignment_matrix(rows, cols, metric=metric, **(metric_kwargs or {}))
        return cls(
            matrix,
            row_labels=row_labels or [f"layer {i}" for i in range(len(rows))],
            col_labels=col_labels or [f"layer {j}" for j in range(len(cols))],
            row_name=row_name, col_name=col_name,
            metric=metric_label(metric, **(metric_kwargs or {})),
            pvalues=pvalues,
        ).plot(ax=ax, **plot_kw)


def _tested_matrix(rows, cols, metric, metric_kwargs, n_permutations, random_state, n_jobs):
    """The alignment matrix and each cell's permutation p-value."""
    results = [[alignment_test(a, b, metric=metric, n_permutations=n_permutations,
                               confidence_level=None, random_state=random_state, n_jobs=n_jobs,
                               **(metric_kwargs or {})) for b in cols] for a in rows]
    return (np.array([[r.statistic for r in row] for row in results]),
            np.array([[r.pvalue for r in row] for row in results]))


def _tick_labels(labels, n, name):
    if labels is None:
        return [str(k) for k in range(n)]
    labels = [str(v) for v in labels]
    if len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} entries; the matrix has {n}.")
    return labels


_METRIC_WORDS = {
    "linear_cka": "linear CKA",
    "unbiased_cka": "unbiased CKA",
    "rbf_cka": "RBF-kernel CKA",
    "mutual_knn": "mutual k-NN overlap",
    "cknna": "CKNNA (centred kernel nearest-neighbour alignment)",
    "svcca": "SVCCA (mean canonical correlation)",
}


def metric_label(metric, k=None, **_):
    """The colorbar label: a metric's name in words (with its ``k``), or a callable's name."""
    if not isinstance(metric, str):
        return getattr(metric, "__name__", None)
    label = _METRIC_WORDS.get(metric, metric)
    return f"{label}, k = {k}" if k is not None and metric in ("mutual_knn", "cknna") else label
