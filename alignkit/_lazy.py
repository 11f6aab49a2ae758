"""Names of a package that are imported on first use, as scikit-learn loads its submodules.

The torch-backed estimators resolve this way, so that ``import alignkit``, the
command line's ``--help`` and the numpy-only functions of :mod:`alignkit.pid`
and :mod:`alignkit.metrics` start without importing torch.
"""

import importlib
import sys


def attach(package, names):
    """``__getattr__`` and ``__dir__`` for ``package``'s lazily imported ``names``.

    ``names`` maps a public name to the relative module that defines it, or
    to ``None`` for a submodule of that name. A resolved name is stored on the
    package, so later look-ups are plain attribute reads.
    """

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = names[name]
        value = (importlib.import_module(f".{name}", package) if where is None
                 else getattr(importlib.import_module(where, package), name))
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
