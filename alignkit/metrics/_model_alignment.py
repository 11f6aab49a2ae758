"""Layer-by-layer alignment of two live torch models over a whole data set."""

from contextlib import ExitStack

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ._array import SHARED_CONSTRAINTS
from ._streaming import STREAMING_METRICS, AlignmentAccumulator

_POOLINGS = ("mean", "first", "flatten")


def _pool(output, pooling, name):
    """A module's output as a 2-D (batch, features) tensor."""
    if isinstance(output, (tuple, list)):  # e.g. (output, state) of recurrent layers
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"module {name!r} returned {type(output).__name__}, not a tensor.")
    if callable(pooling):
        pooled = pooling(output)
        if not isinstance(pooled, torch.Tensor) or pooled.ndim != 2 or pooled.shape[0] != output.shape[0]:
            raise ValueError(
                f"pooling must return a (batch, features) tensor; for module {name!r} it "
                f"returned {getattr(pooled, 'shape', type(pooled).__name__)}."
            )
        return pooled
    if output.ndim == 1:
        return output[:, None]
    if output.ndim == 2 or pooling == "flatten":
        return output.flatten(1)
    if pooling == "first":
        if output.ndim != 3:
            raise ValueError(
                f"pooling='first' takes the first token of a (batch, tokens, features) "
                f"output; module {name!r} gave shape {tuple(output.shape)}."
            )
        return output[:, 0]
    # "mean": over the tokens of (batch, tokens, features), over the spatial
    # positions of (batch, channels, *spatial).
    return output.mean(1) if output.ndim == 3 else output.flatten(2).mean(2)


def _as_module(model, name):
    """The ``nn.Module`` of a model, or of a fitted estimator's skorch net."""
    module = getattr(getattr(model, "net_", None), "module_", model)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            f"{name} must be a torch.nn.Module or a fitted alignkit estimator; got "
            f"{type(model).__name__}."
        )
    return module


def _resolve_layers(module, layers, name):
    named = dict(module.named_modules())
    if layers is None:
        return [n for n, m in named.items() if n and not any(True for _ in m.children())]
    layers = [layers] if isinstance(layers, str) else list(layers)
    missing = [layer for layer in layers if layer not in named]
    if not layers or missing:
        raise ValueError(
            f"{name} must name modules of the model (see model.named_modules()); "
            f"{'got none' if not layers else f'unknown: {missing}'}. Some names: "
            f"{[n for n in named if n][:10]}."
        )
    return layers


def _batches(loader, batch_size):
    """Model inputs batch by batch: a DataLoader's (first) items or slices of one array."""
    if isinstance(loader, (np.ndarray, torch.Tensor)):
        for start in range(0, loader.shape[0], batch_size):
            yield loader[start:start + batch_size]
        return
    for batch in loader:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


@validate_params(
    {
        # A module or a fitted estimator holding one (net_.module_), checked when resolved.
        "model_a": "no_validation",
        "model_b": "no_validation",
        "loader": ["array-like", HasMethods(["__iter__"])],
        "layers_a": ["array-like", None],
        "layers_b": ["array-like", None],
        "metric": [StrOptions(set(STREAMING_METRICS))],
        "pooling": [StrOptions(set(_POOLINGS)), callable],
        "device": [str, torch.device, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "normalize": SHARED_CONSTRAINTS["normalize"],
        "clip": SHARED_CONSTRAINTS["clip"],
    },
    prefer_skip_nested_validation=True,
)
def model_alignment_matrix(model_a, model_b, loader, *, layers_a=None, layers_b=None,
                           metric="unbiased_cka", pooling="mean", device=None,
                           batch_size=256, n_components=10, normalize=False, clip=False):
    """Alignment between every layer of one torch model and every layer of another, over all the data.

    Forward hooks on the named modules collect each batch's outputs, pool
    them to ``(batch, features)`` and add every ``(layer_a, layer_b)`` pair to
    an :class:`AlignmentAccumulator`; the batch's activations are dropped
    before the next. The result is exact over the whole loader: the same as
    the metric on every layer's stacked outputs, in memory independent of
    the number of samples. Runs under ``torch.no_grad`` in eval mode (each
    module's training flag is restored afterwards).

    Parameters
    ----------
    model_a : torch.nn.Module or fitted estimator
        The first model, or a fitted alignkit estimator (its
        ``net_.module_``, e.g. an
        :class:`~alignkit.AlignedMultimodalClassifier`'s network, whose
        encoders are ``branches.<m>.encoder``).
    model_b : torch.nn.Module, fitted estimator or None
        The second model; ``None`` or ``model_a`` itself compares two sets of
        layers of one model in a single forward pass per batch.
    loader : iterable of batches, ndarray or torch.Tensor
        The inputs, e.g. a :class:`~torch.utils.data.DataLoader`; of a batch
        that is a tuple or list (``(X, y)``) the first item is the input. An
        array or tensor is cut into batches of ``batch_size`` rows.
    layers_a, layers_b : list of str, default=None
        Module names (``model.named_modules()``) to hook; ``None`` hooks
        every leaf module.
    metric : {"unbiased_cka", "linear_cka", "svcca"}, default="unbiased_cka"
        A metric whose statistics add up across batches.
    pooling : {"mean", "first", "flatten"} or callable, default="mean"
        How outputs with more than two dimensions become ``(batch,
        features)``: ``"mean"`` averages the tokens of ``(batch, tokens,
        features)`` outputs and the positions of ``(batch, channels,
        *spatial)`` ones; ``"first"`` takes the first (CLS) token;
        ``"flatten"`` keeps every entry; a callable maps the output tensor to
        a 2-D tensor. A tuple output (recurrent layers) is pooled by its
        first item.
    device : str or torch.device, default=None
        Where to run: the models are moved there for the call and back
        afterwards, the inputs too; ``None`` runs where ``model_a``'s
        parameters are. The statistics stay on that device.
    batch_size : int, default=256
        Rows per batch when ``loader`` is an array.
    n_components : int, default=10
        Singular directions kept by ``"svcca"``.
    normalize : bool, default=False
        L2-normalise each pooled row first.
    clip : bool, default=False
        Clip the unbiased HSIC terms at 0.

    Returns
    -------
    matrix : ndarray of shape (len(layers_a), len(layers_b))
        ``matrix[i, j]`` aligns layer ``layers_a[i]`` with ``layers_b[j]``;
        draw it with :class:`~alignkit.plotting.AlignmentMatrixDisplay`.

    See Also
    --------
    AlignmentAccumulator : The streamed statistics behind it.
    alignment_matrix : The same over representations held in memory.

    Examples
    --------
    >>> import torch
    >>> from alignkit.metrics import model_alignment_matrix
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> X = torch.randn(1000, 6)
    >>> M = model_alignment_matrix(net, None, X, layers_a=["0", "2"], layers_b=["0", "2"],
    ...                            batch_size=100)
    >>> M.shape, round(float(M[0, 0]), 6)
    ((2, 2), 1.0)
    """
    module_a = _as_module(model_a, "model_a")
    module_b = module_a if model_b is None else _as_module(model_b, "model_b")
    layers_a = _resolve_layers(module_a, layers_a, "layers_a")
    layers_b = _resolve_layers(module_b, layers_b, "layers_b")
    modules = [module_a] if module_b is module_a else [module_a, module_b]
    accumulators = [[AlignmentAccumulator(metric, n_components=n_components, normalize=normalize,
                                          clip=clip) for _ in layers_b] for _ in layers_a]
    outputs = ({}, {})  # this batch's pooled outputs of model_a's and model_b's layers

    def hook(store, name):
        def record(module, inputs, output):
            store[name] = _pool(output.detach() if isinstance(output, torch.Tensor) else output,
                                pooling, name)
        return record

    original_devices = [next(m.parameters(), torch.empty(0)).device for m in modules]
    training_flags = [{m: m.training for m in module.modules()} for module in modules]
    with ExitStack() as stack:
        stack.callback(_restore, modules, original_devices, training_flags, device)
        for store, module, names in zip(outputs, (module_a, module_b), (layers_a, layers_b)):
            named = dict(module.named_modules())
            for name in names:
                stack.callback(named[name].register_forward_hook(hook(store, name)).remove)
        if device is not None:
            for module in modules:
                module.to(device)
        run_device = torch.device(device) if device is not None else original_devices[0]
        dtype = next(module_a.parameters(), torch.empty(0)).dtype
        stack.enter_context(torch.no_grad())
        for module in modules:
            module.eval()
        for x in _batches(loader, batch_size):
            x = torch.as_tensor(x)
            x = x.to(run_device, dtype) if x.is_floating_point() else x.to(run_device)
            for module in modules:
                module(x)
            missing = sorted({*layers_a} - outputs[0].keys() | {*layers_b} - outputs[1].keys())
            if missing:
                raise ValueError(f"modules {missing} did not run in the forward pass.")
            for i, name_a in enumerate(layers_a):
                for j, name_b in enumerate(layers_b):
                    accumulators[i][j].partial_fit(outputs[0][name_a], outputs[1][name_b])
            for store in outputs:
                store.clear()
    return np.array([[acc.score() for acc in row] for row in accumulators], dtype=np.float64)


def _restore(modules, devices, training_flags, device):
    for module, original, flags in zip(modules, devices, training_flags):
        if device is not None:
            module.to(original)
        for m, flag in flags.items():
            m.train(flag)
