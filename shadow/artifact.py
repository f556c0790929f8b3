"""ONNX artifacts: content address, graph facts (class labels) and the fit of inputs to a mapping."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shadow.errors import InvalidArtifact, InvalidMapping
from shadow.mapping import InputMapping
from shadow.session import onnx_dtype

__all__ = ["check_inputs", "graph_class_labels", "sha256_of"]

# Attributes holding the class labels of ai.onnx.ml classifier and ZipMap nodes.
_CLASS_ATTRIBUTES = ("classlabels_int64s", "classlabels_ints", "classlabels_strings")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def graph_class_labels(content: bytes) -> tuple[str, ...] | None:
    """The class labels the graph's classifier (or ZipMap) node declares, as text; None when
    none does or the ``onnx`` package is not installed (onnxruntime does not expose attributes)."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        graph = onnx.load_model_from_string(content).graph
    except Exception as exc:  # onnx raises DecodeError / ValueError variants; the message is the point
        raise InvalidArtifact(f"not an ONNX model: {exc}") from None
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.name in _CLASS_ATTRIBUTES:
                values: Sequence[Any] = attribute.ints or attribute.strings
                if values:
                    return tuple(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values)
    return None


def check_inputs(mapping: InputMapping, inputs: Sequence[tuple[str, str, tuple[Any, ...]]]) -> Mapping[str, np.dtype]:
    """The dtype to feed per ONNX input, after checking that the mapping feeds every input,
    nothing else, with the width the graph declares. Raises InvalidMapping naming the input."""
    declared = {name: (kind, shape) for name, kind, shape in inputs}
    fed = [t.name for t in mapping.inputs]
    missing = sorted(set(declared) - set(fed))
    if missing:
        raise InvalidMapping(f"the ONNX model also needs input(s) {missing}; the mapping feeds {fed}")
    unknown = sorted(set(fed) - set(declared))
    if unknown:
        raise InvalidMapping(f"the ONNX model has no input(s) {unknown}; its inputs are {sorted(declared)}")
    dtypes: dict[str, np.dtype] = {}
    for tensor in mapping.inputs:
        kind, shape = declared[tensor.name]
        try:
            dtypes[tensor.name] = onnx_dtype(kind)
        except ValueError as exc:
            raise InvalidMapping(f"input {tensor.name!r}: {exc}") from None
        if len(shape) != 2:
            raise InvalidMapping(f"input {tensor.name!r} has shape {list(shape)}: expected [batch, columns]")
        width = mapping.width(tensor)
        if isinstance(shape[1], int) and shape[1] != width:
            raise InvalidMapping(
                f"input {tensor.name!r} takes {shape[1]} columns; the mapping gives {width} "
                f"({', '.join(tensor.features)})")
        if isinstance(shape[0], int):
            raise InvalidMapping(f"input {tensor.name!r} has a fixed batch size {shape[0]}: export it with a dynamic batch")
    return dtypes
