"""One way to share docstring text: ``{name}`` placeholders filled by :class:`Substitution`.

As imbalanced-learn's ``Substitution``, with placeholders that read as what
they stand for. A placeholder stands alone on its line, and the text put in
its place is indented to the placeholder's column, so one text serves a
function or class (4 spaces) and a method (8 spaces) alike.
"""

import re
import textwrap

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.MULTILINE)


class Substitution:
    """Decorator filling the ``{name}`` lines of a docstring with shared texts.

    Parameters
    ----------
    **texts : dict of str
        The text for each placeholder name, written without indentation.
        A placeholder with no text raises ``KeyError`` when decorating, so a
        misspelt name cannot reach the rendered documentation.

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
        self.texts = {name: textwrap.dedent(text).strip("\n") for name, text in texts.items()}

    def __call__(self, obj):
        if obj.__doc__:  # None under python -OO
            obj.__doc__ = _PLACEHOLDER.sub(self._fill, obj.__doc__)
        return obj

    def _fill(self, match):
        indent, name = match.groups()
        return textwrap.indent(self.texts[name], indent)
