"""AlignedMultimodalClassifier and AlignedMultimodalRegressor."""

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import check_scoring
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, PassthroughScoring
from skorch.dataset import ValidSplit
from torch import nn
from torch.utils.data import TensorDataset

from ._training import (
    AlignmentNet,
    EpochProgressBar,
    PerModalityGradientClipping,
    ValidationScoring,
    divergence_advice,
)
from .nets import ModalityBranch, MultimodalAlignmentNet
from .nets._encoders import check_encoder_output, make_encoder
from .utils import fit_modality_layout
from .utils._modalities import modality_index
from .utils._random import derived_seed, draw_seeds
from .utils._torch import (
    DivergenceGuard,
    batch_loader,
    forked_torch_rng,
    resolve_device,
    torch_threads,
)
from .utils._docstrings import Substitution

__all__ = ["AlignedMultimodalClassifier", "AlignedMultimodalRegressor"]


def _per_modality(value, n_modalities, name, is_single):
    """Broadcast a parameter given once to every modality, or check its per-modality list."""
    if is_single(value):
        return [value] * n_modalities
    value = list(value)
    if len(value) != n_modalities:
        raise ValueError(
            f"{name} lists {len(value)} entries but X has {n_modalities} modalities; "
            f"give one {name} for all or one per modality."
        )
    return value


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(X):
    """The networks run in float32: larger values would become inf, then NaN."""
    peak = float(np.abs(X).max()) if X.size else 0.0
    if peak > _FLOAT32_MAX:
        raise ValueError(
            f"X has values up to {peak:.3g} in magnitude, beyond the float32 range "
            f"(±{_FLOAT32_MAX:.3g}) in which the networks compute; rescale X first, "
            "e.g. with sklearn.preprocessing.StandardScaler in a Pipeline."
        )


def _concat_chunks(chunks):
    """Concatenate batch-wise module outputs, keeping their (nested) structure."""
    first = chunks[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(chunks).cpu().numpy().astype(np.float64)
    return [_concat_chunks(list(parts)) for parts in zip(*chunks)]


class _AlignedMultimodalBase(TransformerMixin, BaseEstimator):
    """Per-modality encoders and heads trained with a λ-weighted contrastive term."""

    _parameter_constraints = {
        "modality_dims": ["array-like", None],
        "lam": [Interval(Real, 0, None, closed="left")],
        "lam_warmup": [Interval(Integral, 0, None, closed="left")],
        "stop_gradient": ["array-like", None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "learn_temperature": ["boolean"],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"mlp", "transformer"}), callable, nn.Module, list],
        "encoder_kwargs": [dict, list, None],
        "input_shapes": [list, None],
        "hidden_dims": ["array-like"],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "fusion": [StrOptions({"mean", "concat"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "weight_decay": [Interval(Real, 0, None, closed="left"), "array-like"],
        "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
        "early_stopping": ["boolean"],
        "scoring": [StrOptions({"loss", "task_loss"}), str, callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        modality_dims=None,
        lam=0.25,
        lam_warmup=0,
        stop_gradient=None,
        temperature=0.07,
        learn_temperature=False,
        projection_dim=64,
        encoder="mlp",
        encoder_kwargs=None,
        input_shapes=None,
        hidden_dims=(128, 128),
        embed_dim=64,
        fusion="mean",
        loss=None,
        max_epochs=20,
        batch_size=512,
        lr=1e-3,
        weight_decay=1e-2,
        grad_clip=None,
        early_stopping=False,
        scoring="task_loss",
        validation_fraction=0.1,
        n_iter_no_change=5,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        n_threads=None,
    ):
        self.modality_dims = modality_dims
        self.lam = lam
        self.lam_warmup = lam_warmup
        self.stop_gradient = stop_gradient
        self.temperature = temperature
        self.learn_temperature = learn_temperature
        self.projection_dim = projection_dim
        self.encoder = encoder
        self.encoder_kwargs = encoder_kwargs
        self.input_shapes = input_shapes
        self.hidden_dims = hidden_dims
        self.embed_dim = embed_dim
        self.fusion = fusion
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads

    # -- subclass hooks: targets and criterion --------------------------------
    def _encode_targets(self, y):
        raise NotImplementedError

    def _criterion(self):
        raise NotImplementedError

    def _decode_targets(self, y_encoded):
        raise NotImplementedError

    # -- building ---------------------------------------------------------------
    def _build_module(self, base_seed, n_outputs):
        n_mod = len(self.modality_dims_)
        specs = _per_modality(self.encoder, n_mod, "encoder", lambda v: not isinstance(v, list))
        kwargs = _per_modality(self.encoder_kwargs or {}, n_mod, "encoder_kwargs",
                               lambda v: isinstance(v, dict))
        shapes = _per_modality(self.input_shapes, n_mod, "input_shapes", lambda v: v is None)
        branches = []
        for m, (spec, kw, shape, dim) in enumerate(zip(specs, kwargs, shapes, self.modality_dims_)):
            # Each branch draws its initial weights from its own seed, so a
            # modality starts the same whatever the other modalities are.
            torch.manual_seed(derived_seed(base_seed, 0, m))
            encoder = make_encoder(spec, dim, self.embed_dim, hidden_dims=self.hidden_dims,
                                   input_shape=shape, kwargs=kw)
            check_encoder_output(encoder, dim, self.embed_dim, f"{m} ({self.modality_names_[m]!r})")
            branches.append(ModalityBranch(encoder, self.embed_dim, n_outputs, self.projection_dim))
        torch.manual_seed(derived_seed(base_seed, 1))
        return MultimodalAlignmentNet(
            branches, self.modality_dims_, self.embed_dim, n_outputs, self.fusion,
            self.temperature, self.learn_temperature,
        )

    def _stop_gradient_indices(self):
        if self.stop_gradient is None:
            return []
        indices = sorted({modality_index(m, self.modality_names_) for m in self.stop_gradient})
        if len(indices) == len(self.modality_dims_):
            raise ValueError(
                f"stop_gradient={list(self.stop_gradient)} detaches every modality, so the "
                "contrastive term would train no encoder; leave at least one out (or use lam=0)."
            )
        return indices

    def _per_modality_optimizer_settings(self):
        n_mod = len(self.modality_dims_)
        settings = []
        for name, value, low, closed in [("lr", self.lr, 0, "neither"),
                                          ("weight_decay", self.weight_decay, 0, "left")]:
            values = _per_modality(value, n_mod, name, lambda v: isinstance(v, Real))
            bad = [v for v in values if not isinstance(v, Real) or not np.isfinite(v)
                   or v < low or (closed == "neither" and v == low)]
            if bad:
                bound = "> 0" if closed == "neither" else ">= 0"
                raise ValueError(f"{name} must hold finite numbers {bound} (one for all or one "
                                 f"per modality); got {value!r}.")
            settings.append([float(v) for v in values])
        return settings

    def _build_callbacks(self):
        callbacks = [
            ("task_loss", PassthroughScoring("train_task_loss", on_train=True)),
            ("contrastive_loss", PassthroughScoring("train_contrastive_loss", on_train=True)),
            ("divergence_guard", DivergenceGuard(divergence_advice)),
        ]
        if self.grad_clip is not None:
            callbacks.append(("grad_clip", PerModalityGradientClipping(self.grad_clip)))
        if self.early_stopping:
            callbacks.append(("valid_task_loss", PassthroughScoring("valid_task_loss")))
            # The total loss grows with λ, so by default early stopping
            # watches the task loss alone (or a score, higher is better).
            monitor, lower_is_better = {"loss": ("valid_loss", True),
                                        "task_loss": ("valid_task_loss", True)}.get(
                self.scoring, ("valid_score", False))
            if monitor == "valid_score":
                callbacks.append(("valid_score", ValidationScoring(
                    self, check_scoring(self, self.scoring), self._decode_targets)))
            callbacks.append(("early_stopping", EarlyStopping(
                monitor=monitor, lower_is_better=lower_is_better,
                patience=self.n_iter_no_change, load_best=True)))
        if self.verbose:
            callbacks.append(("progress_bar", EpochProgressBar(type(self).__name__)))
        callbacks.extend(copy.deepcopy(self.callbacks or []))
        return callbacks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the per-modality models with the λ-weighted contrastive term.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, sum(modality_dims))
            Every modality's flattened features side by side.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2,
                             multi_output=self._multi_output)
        _check_float32_range(X)
        fit_modality_layout(self)
        y_encoded = self._encode_targets(y)
        if self.early_stopping:
            self._check_validation_split(y_encoded)
        if self.lam > 0 and min(self.batch_size, X.shape[0]) < 2:
            raise ValueError(
                f"lam={self.lam} needs batches of at least 2 samples for the contrastive "
                f"term; got batch_size={self.batch_size} with {X.shape[0]} samples."
            )
        self.stop_gradient_ = self._stop_gradient_indices()
        self.device_ = resolve_device(self.device)
        base_seed = draw_seeds(self.random_state)
        n_outputs = y_encoded.shape[1] if y_encoded.ndim == 2 else len(self.classes_)
        with torch_threads(self.n_threads), forked_torch_rng(self.device_):
            module = self._build_module(base_seed, n_outputs)
            train_split = None
            if self.early_stopping:
                train_split = ValidSplit(self.validation_fraction, stratified=self._stratify,
                                         random_state=derived_seed(base_seed, 3))
            lrs, decays = self._per_modality_optimizer_settings()
            net = AlignmentNet(
                module=module,
                criterion=self._criterion(),
                optimizer=torch.optim.AdamW,
                # One AdamW parameter group per modality branch; the shared
                # parameters (concat head, learned temperature) take the means.
                optimizer__param_groups=[
                    (f"branches.{m}.*", {"lr": lr, "weight_decay": decay})
                    for m, (lr, decay) in enumerate(zip(lrs, decays))
                ],
                optimizer__weight_decay=float(np.mean(decays)),
                lr=float(np.mean(lrs)),
                lam=self.lam,
                lam_warmup=self.lam_warmup,
                stop_gradient=self.stop_gradient_,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                dataset=TensorDataset,
                iterator_train=batch_loader,
                iterator_train__shuffle=True,
                iterator_valid=batch_loader,
                train_split=train_split,
                callbacks=self._build_callbacks(),
                device=self.device_,
                verbose=int(self.verbose > 1),
            )
            # Batch order (and any dropout) draws from the forked global RNG.
            torch.manual_seed(derived_seed(base_seed, 2))
            self.n_threads_ = torch.get_num_threads()
            net.fit(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y_encoded))
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        return self

    def _check_validation_split(self, y_encoded):
        """Fail early, naming the parameters, where the held-out split cannot be made."""
        n = len(y_encoded)
        n_valid = math.ceil(self.validation_fraction * n)
        problem = None
        if n - n_valid < 2 or n_valid < 1:
            problem = f"leaves {n - n_valid} training and {n_valid} validation sample(s)"
        elif self._stratify:
            counts = np.bincount(y_encoded)
            if counts.min() < 2:
                rare = self.classes_.tolist()[int(np.argmin(counts))]
                problem = (f"cannot be stratified: class {rare!r} has {counts.min()} sample, "
                           "and every class needs 2 to be in both parts")
            elif min(n_valid, n - n_valid) < len(counts):
                problem = (f"gives {n_valid} validation and {n - n_valid} training samples, "
                           f"fewer than the {len(counts)} classes each stratified part needs")
        if problem:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                f"of the {n} samples, which {problem}. Use more samples, another "
                "validation_fraction, or early_stopping=False."
            )

    # -- inference ----------------------------------------------------------------
    def _module_outputs(self, X, fn):
        """Apply ``fn(module, X_batch)`` over ``X`` in batches, without gradients."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        _check_float32_range(X)
        X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        module = self.net_.module_
        module.eval()
        device = self.net_.device
        with torch_threads(self.n_threads), torch.no_grad():
            chunks = [fn(module, X[i : i + self.batch_size].to(device))
                      for i in range(0, X.shape[0], self.batch_size)]
        return _concat_chunks(chunks)

    def _unimodal_outputs(self, X, modality, activation=None):
        check_is_fitted(self)
        m = modality_index(modality, self.modality_names_)
        activation = activation or (lambda outputs: outputs)
        return self._module_outputs(X, lambda module, x: activation(module(x).outputs[:, m]))

    def transform(self, X):
        """Per-modality embeddings side by side.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_modalities * embed_dim)
            Block ``m`` (columns ``m*embed_dim`` to ``(m+1)*embed_dim``) is
            the embedding of modality ``m``; see :meth:`get_feature_names_out`.
        """
        return self._module_outputs(X, lambda module, x: module.embed(x).flatten(1))

    def transform_layers(self, X):
        """Every hidden layer of every modality's encoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.

        Returns
        -------
        layers : list of list of ndarray
            ``layers[m][l]`` has shape ``(n_samples, width_l)``: layer ``l``
            of modality ``m``'s encoder, the last being the embedding. An
            encoder without a ``layer_outputs`` method gives its embedding only.
        """
        return self._module_outputs(X, lambda module, x: module.layer_outputs(x))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the :meth:`transform` columns: ``"<modality>__e<j>"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names come from the fitted modality names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_modalities * embed_dim`` names.
        """
        check_is_fitted(self)
        return np.asarray(
            [f"{name}__e{j}" for name in self.modality_names_ for j in range(self.embed_dim)],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


# The parameters and fitted attributes both estimators document, filled into their
# docstrings by Substitution (each estimator adds its own ``loss`` text).
_SHARED_TEXTS = dict(
    aligned_parameters="""
    {modality_dims}
    lam : float, default=0.25
        Weight λ >= 0 of the contrastive term. ``lam=0`` is exactly
        independent unimodal training.
    lam_warmup : int, default=0
        Ramp λ linearly over the first ``lam_warmup`` epochs (epoch ``e``
        uses ``lam * min(1, e / lam_warmup)``); 0 uses ``lam`` from the
        start. The λ of each epoch is recorded in ``history_`` as ``"lam"``.
    stop_gradient : list of int or str, default=None
        Modalities whose encoders get no gradient from the contrastive term:
        their embeddings are detached before their projection heads in
        InfoNCE, while their task gradient is unchanged. ``[0]`` aligns
        modality 1 towards a modality 0 that trains exactly as at ``lam=0``
        (one-directional, "teacher -> student" alignment), which separates
        transfer into the student from any regularisation of both encoders.
        Every modality but at least one may be listed.
    temperature : float, default=0.07
        Temperature τ of the InfoNCE softmax.
    learn_temperature : bool, default=False
        Train τ (as log τ, kept >= 0.01) with the model.
    projection_dim : int, default=64
        Width of the L2-normalised projections the contrastive term compares.
    encoder : {"mlp", "transformer"}, nn.Module, callable or list, default="mlp"
        Encoder of each modality: an :class:`~alignkit.nets.MLPEncoder`, a
        :class:`~alignkit.nets.TransformerEncoder` over ``(seq_len, dim)``
        inputs (needs ``input_shapes``), a module (deep-copied), or a callable
        such as an ``nn.Module`` class called as
        ``encoder(input_dim=..., embed_dim=..., **encoder_kwargs)``. A list
        gives one per modality.
    encoder_kwargs : dict or list of dict, default=None
        Extra keyword arguments for the encoders (one dict for all, or one per
        modality), e.g. ``{"n_layers": 2, "pooling": "mean"}`` for transformers.
    input_shapes : list of tuple or None, default=None
        Per modality, the ``(seq_len, dim)`` shape its flat columns reshape to
        (for ``encoder="transformer"``); None entries for flat modalities.
    hidden_dims : tuple of int, default=(128, 128)
        Hidden widths of the MLP encoders.
    embed_dim : int, default=64
        Width of each modality's embedding (what :meth:`transform` returns).
    fusion : {"mean", "concat"}, default="mean"
        How :meth:`predict` fuses modalities: the mean of the unimodal heads'
        outputs, or a head trained on the concatenated embeddings. The concat
        head sees gradient-detached embeddings, so it never shapes the encoders.
    {loss}
    max_epochs : int, default=20
        Passes over the training data.
    batch_size : int, default=512
        Samples per batch; the contrastive term contrasts each sample with the
        others of its batch.
    lr : float or list of float, default=1e-3
        AdamW learning rate: one for all, or one per modality (each
        modality's branch is its own parameter group; the shared parameters,
        a concat head and a learned temperature, use the mean).
    weight_decay : float or list of float, default=1e-2
        AdamW weight decay, one for all or one per modality, like ``lr``.
    grad_clip : float, default=None
        Maximum gradient norm, applied to each modality's branch on its own.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when the quantity
        ``scoring`` names has not improved for ``n_iter_no_change`` epochs
        and restore the best weights.
    scoring : {"task_loss", "loss"}, str or callable, default="task_loss"
        What early stopping monitors on the validation split: the task loss
        alone (``history_`` key ``valid_task_loss``), the total loss
        task + λ·contrastive (``valid_loss``; it grows with λ, so it stops
        aligned models for a reason unrelated to the task), or a scikit-learn
        scorer name or callable ``scorer(estimator, X, y)``, higher being
        better (``valid_score``), e.g. ``modality_scorer(1)``. Used only with
        ``early_stopping=True``.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs),
        deep-copied at each fit.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train; "auto" takes CUDA when available. A model trained on
        CUDA unpickles onto the CPU on a machine without one.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and the validation split;
        an int gives identical results on CPU run after run.
    verbose : int, default=0
        0: silent; 1: a progress bar over epochs; 2: also skorch's epoch table.
    n_threads : int, default=None
        The torch intra-op threads while fitting and predicting; None leaves
        torch's setting (joblib workers already cap it per process).
""",
    aligned_attributes="""
    {layout_attributes}
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the
        :class:`~alignkit.nets.MultimodalAlignmentNet`.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_task_loss``,
        ``train_contrastive_loss``, ``lam`` (and ``valid_loss``,
        ``valid_task_loss``, ``valid_score``), and per batch.
    n_iter_ : int
        Epochs run.
    n_threads_ : int
        torch threads used during fit.
    stop_gradient_ : list of int
        Indices of the ``stop_gradient`` modalities.
    device_ : str
        Device the model was trained on.
""",
)


@Substitution(**_SHARED_TEXTS, loss="""loss : {"cross_entropy"} or None, default=None
    Task loss; None means cross-entropy.""")
class AlignedMultimodalClassifier(ClassifierMixin, _AlignedMultimodalBase):
    """Multimodal classifier with a controllable cross-modal alignment term.

    Each modality ``m`` has an encoder, a linear classification head and a
    projection head. Training minimises
    ``Σ_m CE(head_m(h_m), y) + lam · mean over pairs of symmetric InfoNCE``
    (Fang, Zhang & Chan, "To Align or Not to Align", AAAI 2026), with skorch
    running the loop. Predictions fuse the unimodal heads; each unimodal model
    stays available through :meth:`predict_modality`.

    Parameters
    ----------
    {aligned_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {aligned_attributes}

    See Also
    --------
    AlignedMultimodalRegressor : The same model for continuous targets.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import AlignedMultimodalClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> X = np.c_[y[:, None] + rng.normal(size=(300, 3)), y[:, None] + rng.normal(size=(300, 2))]
    >>> clf = AlignedMultimodalClassifier(modality_dims=[3, 2], lam=0.5, max_epochs=30,
    ...                                   batch_size=64, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.8
    True
    >>> clf.transform(X).shape
    (300, 128)
    """

    _parameter_constraints = {
        **_AlignedMultimodalBase._parameter_constraints,
        "loss": [StrOptions({"cross_entropy"}), None],
    }
    _multi_output = False
    _stratify = True

    def _encode_targets(self, y):
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); a classifier needs at least 2 classes."
            )
        return encoder.transform(y).astype(np.int64)

    def _criterion(self):
        return nn.CrossEntropyLoss

    def _decode_targets(self, y_encoded):
        return self.classes_[y_encoded]

    def predict_proba(self, X):
        """Fused class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the fused logits, columns in the order of ``classes_``.
        """
        return self._module_outputs(X, lambda module, x: module(x).fused.softmax(dim=1))

    def predict(self, X):
        """Fused class predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        indices = self.predict_proba(X).argmax(axis=1)
        return self.classes_[indices]

    def predict_proba_modality(self, X, modality):
        """Class probabilities of one modality's unimodal model.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data (only modality ``modality``'s columns are used).
        modality : int or str
            Index or name of the modality.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of that modality's head.
        """
        return self._unimodal_outputs(X, modality, lambda logits: logits.softmax(dim=1))

    def predict_modality(self, X, modality):
        """Class predictions of one modality's unimodal model.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.
        modality : int or str
            Index or name of the modality.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels predicted from that modality alone.
        """
        indices = self._unimodal_outputs(X, modality).argmax(axis=1)
        return self.classes_[indices]


@Substitution(**_SHARED_TEXTS, loss="""loss : {"squared_error", "absolute_error"} or None, default=None
    Task loss (MSE or L1, on targets standardised with the training
    mean and standard deviation); None means "squared_error".""")
class AlignedMultimodalRegressor(RegressorMixin, _AlignedMultimodalBase):
    """Multimodal regressor with a controllable cross-modal alignment term.

    The regression counterpart of :class:`AlignedMultimodalClassifier`
    (e.g. CMU-MOSEI sentiment): each modality's head predicts the targets,
    the task loss is squared or absolute error on standardised targets, and
    ``lam`` weights the cross-modal InfoNCE term.

    Parameters
    ----------
    {aligned_parameters}

    Attributes
    ----------
    y_mean_ : ndarray of shape (n_outputs,)
        Training target mean.
    y_scale_ : ndarray of shape (n_outputs,)
        Training target standard deviation (1 where it is 0).
    {aligned_attributes}

    See Also
    --------
    AlignedMultimodalClassifier : The same model for class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import AlignedMultimodalRegressor
    >>> rng = np.random.default_rng(0)
    >>> t = rng.normal(size=300)
    >>> X = np.c_[t[:, None] + 0.1 * rng.normal(size=(300, 3)), t[:, None] + rng.normal(size=(300, 2))]
    >>> reg = AlignedMultimodalRegressor(modality_dims=[3, 2], max_epochs=30, batch_size=64,
    ...                                  random_state=0).fit(X, 2 * t + 1)
    >>> reg.score(X, 2 * t + 1) > 0.8
    True
    """

    _parameter_constraints = {
        **_AlignedMultimodalBase._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error"}), None],
    }
    _multi_output = True
    _stratify = False

    def _encode_targets(self, y):
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        y2d = y.reshape(len(y), -1)
        # Moments of y / max|y|, so that targets up to the float64 limit neither overflow nor underflow.
        peak = np.abs(y2d).max(axis=0)
        peak[peak == 0] = 1.0
        unit = y2d / peak
        unit_mean, unit_std = unit.mean(axis=0), unit.std(axis=0)
        self.y_mean_ = peak * unit_mean
        self.y_scale_ = np.where(unit_std > 0, peak * unit_std, 1.0)
        return ((unit - unit_mean) / np.where(unit_std > 0, unit_std, 1.0)).astype(np.float32)

    def _criterion(self):
        return nn.L1Loss if self.loss == "absolute_error" else nn.MSELoss

    def _decode_targets(self, y_encoded):
        return self._to_target_scale(y_encoded.astype(np.float64))

    def _to_target_scale(self, standardised):
        y = standardised * self.y_scale_ + self.y_mean_
        return y.ravel() if self._y_ndim == 1 else y

    def predict(self, X):
        """Fused predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Mean of the unimodal heads (``fusion="mean"``) or the concat head.
        """
        return self._to_target_scale(self._module_outputs(X, lambda module, x: module(x).fused))

    def predict_modality(self, X, modality):
        """Predict with one modality's unimodal model alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Input data.
        modality : int or str
            Index or name of the modality.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions from that modality alone.
        """
        return self._to_target_scale(self._unimodal_outputs(X, modality))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
