import numpy as np
import pandas as pd
import pytest

from alignkit.utils import concat_modalities, resolve_modalities, split_modalities


def test_concat_then_split_round_trips_any_trailing_shape(rng):
    a, b, c = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 5)), rng.normal(size=(4, 1, 1, 2))
    X, dims = concat_modalities({"img": a, "txt": b, "aud": c})
    assert dims == [6, 5, 2]
    parts = split_modalities(X, dims)
    np.testing.assert_array_equal(parts[0].reshape(4, 2, 3), a)
    np.testing.assert_array_equal(parts[1], b)
    np.testing.assert_array_equal(parts[2].reshape(4, 1, 1, 2), c)


def test_concat_rejects_mismatched_samples_and_non_lists(rng):
    with pytest.raises(ValueError, match="same number of samples"):
        concat_modalities([np.zeros((3, 2)), np.zeros((4, 2))])
    with pytest.raises(TypeError, match="list or dict"):
        concat_modalities(np.zeros((3, 2)))


def test_split_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"describes 5 columns but X has shape \(3, 4\)"):
        split_modalities(np.zeros((3, 4)), [2, 3])


def test_resolve_default_is_two_halves():
    assert resolve_modalities(7, None) == ([4, 3], ["m0", "m1"])


def test_resolve_infers_prefixed_columns_like_column_transformer():
    names = ["image__p0", "image__p1", "audio__f0", "text__t0", "text__t1"]
    assert resolve_modalities(5, None, names) == ([2, 1, 2], ["image", "audio", "text"])
    # Explicit dims that agree with the prefixes keep the names.
    assert resolve_modalities(5, [2, 1, 2], names)[1] == ["image", "audio", "text"]
    assert resolve_modalities(5, [3, 2], names)[1] == ["m0", "m1"]


@pytest.mark.parametrize(
    "n, dims, names, match",
    [
        (5, [2, 2], None, r"sums to 4 columns but X has 5 feature\(s\)"),
        (5, [5], None, "at least 2 modalities"),
        (5, [2, -3], None, "positive ints"),
        (5, "23", None, "list of positive ints"),
        (1, None, None, r"X has 1 feature\(s\)"),
        (3, None, ["a__x", "b__y", "a__z"], "contiguous"),
        (3, None, ["a__x", "y", "b__z"], "no prefix"),
        (2, None, ["a__x", "a__y"], "name 1 modality"),
    ],
)
def test_resolve_errors_say_what_was_expected(n, dims, names, match):
    with pytest.raises((ValueError, TypeError), match=match):
        resolve_modalities(n, dims, names)


def test_dataframe_column_names_are_understood(rng):
    df = pd.DataFrame(rng.normal(size=(3, 3)), columns=["v__a", "v__b", "t__c"])
    assert resolve_modalities(df.shape[1], None, df.columns) == ([2, 1], ["v", "t"])
