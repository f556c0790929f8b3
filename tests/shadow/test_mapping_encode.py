"""Input mappings (resolution against the model) and encoding to tensors: pure, no ONNX."""

from __future__ import annotations

import math

import numpy as np
import pytest

from config.loader import parse_monitors
from shadow.encode import encode
from shadow.errors import InvalidMapping
from shadow.mapping import default_mapping, parse_mapping, resolve_mapping
from tests.shadow.conftest import model_spec

MODEL = parse_monitors({"version": 1, "models": [model_spec()]}).models[0]
F32 = {"X": np.dtype(np.float32)}


def columns(x1: list[float], country: list[str | None]) -> dict[str, np.ndarray]:
    n = len(x1)
    cat = np.empty(n, dtype=object)
    cat[:] = country
    return {"x1": np.array(x1), "x2": np.zeros(n), "x3": np.ones(n), "country": cat}


def test_default_mapping_feeds_numeric_then_one_hot_in_declared_order() -> None:
    mapping = resolve_mapping(default_mapping(MODEL, "X"), MODEL)
    assert mapping.inputs[0].features == ("x1", "x2", "x3", "country")  # text feature "note" left out
    assert mapping.encodings["country"].categories == ("DE", "FR", "US")
    assert mapping.width(mapping.inputs[0]) == 6
    out = encode(mapping, columns([1.5, math.nan, 2.0], ["FR", None, "XX"]), {}, 3, F32)
    np.testing.assert_array_equal(out.feeds["X"], np.array([
        [1.5, 0, 1, 0, 1, 0],
        [np.nan, 0, 1, 0, 0, 0],  # missing stays NaN (trees route it); missing category: all zeros
        [2.0, 0, 1, 0, 0, 0],  # unseen category: all zeros
    ], dtype=np.float32))
    assert out.feeds["X"].dtype == np.float32 and out.n_fed == 3


def test_ordinal_encoding_missing_fill_and_two_inputs() -> None:
    mapping = resolve_mapping(parse_mapping({
        "inputs": [{"name": "num", "features": ["x2", "x1"]}, {"name": "cat", "features": ["country"]}],
        "encodings": {"country": {"kind": "ordinal", "categories": ["US", "DE"], "unknown": -9}},
        "missing": 0.0,
    }), MODEL)
    out = encode(mapping, columns([math.nan, 3.0], ["DE", "FR"]), {}, 2,
                 {"num": np.dtype(np.float64), "cat": np.dtype(np.float32)})
    np.testing.assert_array_equal(out.feeds["num"], [[0.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(out.feeds["cat"], [[1.0], [-9.0]])


def test_a_row_that_cannot_be_encoded_gets_its_own_error() -> None:
    mapping = resolve_mapping(default_mapping(MODEL, "X"), MODEL)
    raw = {"x1": np.array([1.0, "abc", None], dtype=object)}
    out = encode(mapping, columns([1.0, math.nan, math.nan], ["DE", "DE", "DE"]), raw, 3, F32)
    assert out.fed.tolist() == [0, 2]
    assert out.feeds["X"].shape == (2, 6)
    assert out.errors[1] == "feature 'x1': a str, not a number" and out.errors[0] is None


@pytest.mark.parametrize("document, message", [
    ({"inputs": [{"name": "X", "features": ["x1", "nope"]}]}, "does not declare"),
    ({"inputs": [{"name": "X", "features": ["x1", "note"]}]}, "is text"),
    ({"inputs": [{"name": "X", "features": ["x1", "x1"]}]}, "more than once"),
    ({"inputs": [{"name": "X", "features": ["x1"]}], "encodings": {"country": {"kind": "one_hot"}}}, "no input feeds"),
    ({"inputs": [{"name": "X", "features": ["x1"]}], "encodings": {"x1": {"kind": "ordinal"}}}, "is numeric"),
    ({"inputs": [{"name": "X", "features": ["x1", "country"]}],
      "encodings": {"country": {"categories": ["a", "a"]}}}, "twice"),
])
def test_bad_mappings_are_refused_naming_the_feature(document: dict, message: str) -> None:
    with pytest.raises(InvalidMapping, match=message):
        resolve_mapping(parse_mapping(document), MODEL)


def test_mapping_document_errors_name_the_path() -> None:
    with pytest.raises(InvalidMapping, match="inputs"):
        parse_mapping({"inputs": []})
    with pytest.raises(InvalidMapping, match="kind"):
        parse_mapping({"inputs": [{"name": "X", "features": ["x1"]}], "encodings": {"x1": {"kind": "hash"}}})


def test_categorical_without_categories_needs_them_declared() -> None:
    spec = model_spec()
    spec["features"][3] = {"name": "country", "type": "categorical"}
    model = parse_monitors({"version": 1, "models": [spec]}).models[0]
    with pytest.raises(InvalidMapping, match="has no categories"):
        resolve_mapping(default_mapping(model, "X"), model)
    ok = resolve_mapping(parse_mapping({"inputs": [{"name": "X", "features": ["country"]}],
                                        "encodings": {"country": {"categories": ["DE"]}}}), model)
    assert ok.encodings["country"].categories == ("DE",)
