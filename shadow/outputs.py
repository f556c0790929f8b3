"""Output semantics: which ONNX outputs hold the class label, the class probabilities or the
regression value, and how to read them into the store's shape (label text, positive-class
score, value). Inference and decoding are pure; the ONNX graph is read by shadow.artifact.

skl2onnx classifiers have ``output_label`` / ``label`` (int64 or string, [N]) and
``output_probability`` / ``probabilities`` (ZipMap seq(map) or, with zipmap=False, a float
tensor [N, k]); regressors have one float output [N, 1]. Anything less obvious is declared in
the mapping file's ``outputs:`` section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from config.monitors import Model, Task
from shadow.errors import InvalidArtifact

__all__ = ["DecodedOutputs", "OnnxOutput", "OutputSemantics", "decode_outputs", "infer_semantics",
           "parse_semantics"]


class OutputSemantics(BaseModel):
    """``classes``: the model's class name of each probability column (and of each raw label
    in ``raw_classes``, position by position); ``raw_classes``: the labels as the graph has them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["classifier", "regressor"]
    label: str | None = None
    probabilities: str | None = None
    value: str | None = None
    classes: tuple[str, ...] | None = None
    raw_classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class OnnxOutput:
    name: str
    type: str  # as onnxruntime spells it: tensor(float), seq(map(int64,tensor(float)))
    shape: tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class DecodedOutputs:
    label: np.ndarray  # object: class name or None
    score: np.ndarray  # float64: positive-class probability, NaN when not binary
    value: np.ndarray  # float64: regression value, NaN for classifiers


def parse_semantics(document: Any) -> OutputSemantics:
    try:
        return OutputSemantics.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidArtifact(f"outputs: {problems}") from None


def _pick(outputs: Sequence[OnnxOutput], fits: Any, hint: str) -> str | None:
    found = [o for o in outputs if fits(o)]
    if len(found) > 1:
        named = [o for o in found if hint in o.name.lower()]
        found = named if len(named) == 1 else found
    return found[0].name if len(found) == 1 else None


def _is_label(o: OnnxOutput) -> bool:
    return o.type in ("tensor(int64)", "tensor(string)", "tensor(int32)") and len(o.shape) <= 2


def _is_probabilities(o: OnnxOutput) -> bool:
    return o.type.startswith("seq(map(") or (o.type in ("tensor(float)", "tensor(double)") and len(o.shape) == 2)


def infer_semantics(outputs: Sequence[OnnxOutput], model: Model, graph_classes: tuple[str, ...] | None,
                    declared: OutputSemantics | None = None) -> OutputSemantics:
    """Semantics for ``model``'s task from the ONNX outputs, unless ``declared`` says them.

    Classes: the declared ones, else the graph's class labels (from its classifier or ZipMap
    node) renamed positionally to ``model.classes`` when both exist, else the model's.
    Raises InvalidArtifact when the outputs do not say it unambiguously."""
    names = {o.name for o in outputs}
    if declared is not None:
        for field in ("label", "probabilities", "value"):
            name = getattr(declared, field)
            if name is not None and name not in names:
                raise InvalidArtifact(f"outputs.{field}: the ONNX model has no output {name!r} (it has {sorted(names)})")
        return _with_classes(declared, model, graph_classes)
    if model.task is Task.regression:
        floats = [o for o in outputs if o.type in ("tensor(float)", "tensor(double)")]
        if len(floats) != 1:
            raise InvalidArtifact(
                f"cannot tell the regression output among {sorted(names)}: declare outputs.value in the mapping")
        return OutputSemantics(kind="regressor", value=floats[0].name)
    label = _pick(outputs, _is_label, "label")
    probabilities = _pick(outputs, _is_probabilities, "prob")
    if label is None and probabilities is None:
        raise InvalidArtifact(
            f"cannot tell a label or probability output among {sorted(names)}: declare outputs in the mapping")
    if model.task is Task.binary and probabilities is None:
        raise InvalidArtifact("a binary model's candidate needs a probability output for its score")
    semantics = _with_classes(OutputSemantics(kind="classifier", label=label, probabilities=probabilities),
                              model, graph_classes)
    shape = next((o.shape for o in outputs if o.name == probabilities), ())
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] != len(semantics.classes or ()):
        raise InvalidArtifact(f"output {probabilities!r} has {shape[1]} column(s) for {len(semantics.classes or ())} "
                              f"classes {list(semantics.classes or ())}: is this a classifier of this model?")
    return semantics


def _with_classes(semantics: OutputSemantics, model: Model, graph_classes: tuple[str, ...] | None) -> OutputSemantics:
    if semantics.kind == "regressor":
        return semantics
    raw = semantics.raw_classes or graph_classes or semantics.classes or model.classes
    names = semantics.classes or (model.classes if model.classes and raw and len(model.classes) == len(raw) else raw)
    if not raw or not names:
        raise InvalidArtifact("the class of each output column is unknown: declare outputs.classes in the mapping")
    if len(raw) != len(names):
        raise InvalidArtifact(f"outputs.classes has {len(names)} classes, the graph {len(raw)}: {list(raw)}")
    if model.classes and set(names) - set(model.classes):
        raise InvalidArtifact(
            f"candidate classes {list(names)} are not the model's classes {list(model.classes)}: "
            "declare outputs.classes to name them")
    if model.task is Task.binary and model.positive_class not in names:
        raise InvalidArtifact(f"positive class {model.positive_class!r} is not among the candidate's classes {list(names)}")
    return semantics.model_copy(update={"classes": tuple(names), "raw_classes": tuple(raw)})


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _probability_matrix(raw: Any, semantics: OutputSemantics, n: int) -> np.ndarray:
    if isinstance(raw, list):  # ZipMap: one {class: probability} per row
        keys = semantics.raw_classes or ()
        out = np.full((n, len(keys)), np.nan)
        for i, row in enumerate(raw):
            by_text = {_text(k): v for k, v in row.items()}
            out[i] = [by_text.get(k, np.nan) for k in keys]
        return out
    matrix = np.asarray(raw, dtype=np.float64).reshape(n, -1)
    if matrix.shape[1] != len(semantics.raw_classes or ()):
        raise InvalidArtifact(f"{semantics.probabilities}: {matrix.shape[1]} columns for classes {semantics.classes}")
    return matrix


def decode_outputs(semantics: OutputSemantics, outputs: Mapping[str, Any], n: int, positive_class: str | None) -> DecodedOutputs:
    """Store-shaped outputs of ``n`` rows from a session run's ``outputs`` (name -> value).

    Label: the label output mapped to class names, else the most probable class. Score: the
    positive class's probability (binary models only)."""
    nan = np.full(n, np.nan)
    if semantics.kind == "regressor":
        value = np.asarray(outputs[semantics.value or ""], dtype=np.float64).reshape(n, -1)[:, 0]
        return DecodedOutputs(label=np.full(n, None, dtype=object), score=nan, value=value)
    names = semantics.classes or ()
    rename = dict(zip(semantics.raw_classes or (), names))
    probabilities = (_probability_matrix(outputs[semantics.probabilities], semantics, n)
                     if semantics.probabilities else None)
    label = np.empty(n, dtype=object)
    if semantics.label:
        # Map the few distinct raw labels, not every row: per-row Python was most of decode's time.
        distinct, inverse = np.unique(np.asarray(outputs[semantics.label]).reshape(n, -1)[:, 0], return_inverse=True)
        named = np.empty(distinct.shape[0], dtype=object)
        named[:] = [rename.get(t, t) for t in map(_text, distinct.tolist())]
        label[:] = named[inverse.reshape(-1)]
    elif probabilities is not None:
        label[:] = [names[j] for j in np.argmax(probabilities, axis=1)]
    score = nan
    if probabilities is not None and positive_class is not None and len(names) == 2:
        score = probabilities[:, names.index(positive_class)]
    return DecodedOutputs(label=label, score=score, value=nan)
