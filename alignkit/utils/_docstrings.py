"""One way to share docstring text: ``{name}`` placeholders filled by :class:`Substitution`.

As imbalanced-learn's ``Substitution``, with placeholders that read as what
they stand for. A placeholder stands alone on its line, and the text put in
its place is indented to the placeholder's column, so one text serves a
function or class (4 spaces) and a method (8 spaces) alike.
"""

import re
import textwrap

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.MULTILINE)


# Texts that several packages' docstrings share, so each is written once.
SHARED_TEXTS = {
    "modality_dims": """modality_dims : list of int, default=None
    Number of columns of each modality in ``X``, in order. ``None``: one
    modality per ``name__`` column prefix of a DataFrame ``X``, else two
    halves of the columns.""",
    "layout_attributes": """modality_dims_ : list of int
    Columns of each modality of ``X``.
modality_names_ : list of str
    Modality names (``name__`` prefixes, else ``"m0"``, ``"m1"``, ...).
n_features_in_ : int
    Number of columns of ``X``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Column names of ``X``, when it had string column names.""",
    # The batches and outputs of the networks in alignkit.nets.
    "x_modality": """x : torch.Tensor of shape (batch, input_dim)
    One modality's features (a sequence encoder's: the flattened sequence,
    all-zero steps being padding).""",
    "X_batch": """X : torch.Tensor of shape (batch, n_features)
    The multimodal input, every modality's columns side by side.""",
    "embedding": """h : torch.Tensor of shape (batch, embed_dim)
    The embedding.""",
    "embeddings": """h : torch.Tensor of shape (batch, n_modalities, embed_dim)
    Every modality's embedding.""",
    "layer_outputs": """layers : list of torch.Tensor
    One ``(batch, width)`` tensor per layer, the ``(batch, embed_dim)``
    embedding last.""",
    # The sections of an encoder's forward and layer_outputs.
    "encoder_forward_sections": """Parameters
----------
{x_modality}

Returns
-------
{embedding}""",
    "encoder_layers_sections": """Parameters
----------
{x_modality}

Returns
-------
{layer_outputs}""",
}


class Substitution:
    """Decorator filling the ``{name}`` lines of a docstring with shared texts.

    A text may hold placeholders of its own, filled in turn. A placeholder
    with no text is left as it is (tests/test_docstrings.py fails on any
    that reaches a public docstring).

    Parameters
    ----------
    **texts : dict of str
        The text for each placeholder name, written without indentation;
        names not given fall back to :data:`SHARED_TEXTS`.

    Examples
    --------
    >>> from alignkit.utils._docstrings import Substitution
    >>> @Substitution(k="k : int, default=10\\n    Number of neighbours.")
    ... def f(k=10):
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     {k}
    ...     '''
    >>> print(f.__doc__.splitlines()[5])
            Number of neighbours.
    """

    def __init__(self, **texts):
        self.texts = {name: textwrap.dedent(text).strip("\n")
                      for name, text in {**SHARED_TEXTS, **texts}.items()}

    def __call__(self, obj):
        if obj.__doc__:  # None under python -OO
            obj.__doc__ = self._fill_all(obj.__doc__)
        return obj

    def _fill_all(self, text):
        return _PLACEHOLDER.sub(self._fill, text)

    def _fill(self, match):
        indent, name = match.groups()
        if name not in self.texts:
            return match.group(0)
        return textwrap.indent(self._fill_all(self.texts[name]), indent)
