"""Plots of alignment, λ sweeps and information decompositions.

scikit-learn style Display objects: build one with a ``from_*`` class method
(which also plots) or from the values, then ``plot(ax=...)``. matplotlib, a
dependency of alignkit, is imported only when a plot is drawn, so that
importing alignkit stays light.
"""

from ._alignment_matrix import AlignmentMatrixDisplay
from ._lambda_sweep import LambdaSweepDisplay
from ._pid import PIDDisplay

__all__ = ["AlignmentMatrixDisplay", "LambdaSweepDisplay", "PIDDisplay"]
