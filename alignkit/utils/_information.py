"""Exact information quantities of discrete joint distributions, in nats, float64."""

import numpy as np

__all__ = ["entropy", "mutual_information", "conditional_mutual_information"]


def entropy(p):
    """Shannon entropy in nats of a probability table of any shape (0 log 0 = 0).

    A table with a non-finite cell raises ``ValueError`` rather than having
    that cell dropped.

    Parameters
    ----------
    p : array-like of any shape
        Probabilities summing to 1.

    Returns
    -------
    entropy : float
        ``-sum p log p`` over the non-zero cells, in nats.

    See Also
    --------
    mutual_information : I(A; B) from a joint table.

    Examples
    --------
    >>> from alignkit.utils import entropy
    >>> round(entropy([0.5, 0.5]), 6)
    0.693147
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    if not np.isfinite(p).all():
        raise ValueError(
            f"entropy needs a finite probability table; {np.count_nonzero(~np.isfinite(p))} "
            f"of its {p.size} cells are NaN or infinite."
        )
    nz = p[p > 0]
    return float(-np.sum(nz * np.log(nz)))


def mutual_information(joint, a_axes, b_axes):
    """I(A; B) in nats from a joint probability table.

    ``H(A) + H(B) - H(A, B)`` of the table's marginals over ``a_axes`` and
    ``b_axes`` (any other axis is summed out).

    Parameters
    ----------
    joint : array-like of shape (k_0, k_1, ...)
        Non-negative table summing to 1 over the variables of its axes.
    a_axes, b_axes : int or tuple of int
        The axes that make up the (possibly composite) variables A and B;
        every other axis is marginalised out.

    Returns
    -------
    mi : float
        ``H(A) + H(B) - H(A, B)``, clipped at 0 against round-off.

    See Also
    --------
    conditional_mutual_information : I(A; B | C).
    entropy : H of a table.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.utils import mutual_information
    >>> P = np.array([[0.5, 0.0], [0.0, 0.5]])       # A == B, one fair bit
    >>> print(round(mutual_information(P, 0, 1) / np.log(2), 12))
    1.0
    """
    return conditional_mutual_information(joint, a_axes, b_axes, ())


def conditional_mutual_information(joint, a_axes, b_axes, c_axes):
    """I(A; B | C) in nats from a joint probability table.

    ``H(A, C) + H(B, C) - H(A, B, C) - H(C)`` of the table's marginals (any
    axis not named is summed out).

    Parameters
    ----------
    joint : array-like of shape (k_0, k_1, ...)
        Non-negative table summing to 1 over the variables of its axes.
    a_axes, b_axes, c_axes : int or tuple of int
        The axes that make up the variables A, B and the conditioning C
        (``()`` for none); every other axis is marginalised out.

    Returns
    -------
    cmi : float
        ``H(A, C) + H(B, C) - H(A, B, C) - H(C)``, clipped at 0 against round-off.

    See Also
    --------
    mutual_information : I(A; B).

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.utils import conditional_mutual_information
    >>> P = np.zeros((2, 2, 2))                      # Y = X1 XOR X2, fair bits
    >>> for x1 in range(2):
    ...     for x2 in range(2):
    ...         P[x1, x2, x1 ^ x2] = 0.25
    >>> print(round(conditional_mutual_information(P, 0, 2, 1) / np.log(2), 12))
    1.0
    """
    joint = np.asarray(joint, dtype=np.float64)
    a_axes, b_axes, c_axes = (tuple(np.atleast_1d(ax).astype(int).tolist()) for ax in (a_axes, b_axes, c_axes))
    if set(a_axes) & set(b_axes) or set(c_axes) & set(a_axes + b_axes):
        raise ValueError(
            f"a_axes {a_axes}, b_axes {b_axes} and c_axes {c_axes} must not share an axis."
        )

    def marginal(keep):
        drop = tuple(ax for ax in range(joint.ndim) if ax not in keep)
        return joint.sum(axis=drop)

    cmi = (
        entropy(marginal(a_axes + c_axes))
        + entropy(marginal(b_axes + c_axes))
        - entropy(marginal(a_axes + b_axes + c_axes))
        - entropy(marginal(c_axes))
    )
    return max(cmi, 0.0)
