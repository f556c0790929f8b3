"""Input mapping: how a model's stored feature values become the ONNX model's input tensors.

Declared in YAML (``--mapping mapping.yaml``)::

    inputs:                      # one entry per ONNX input, features in column order
      - name: float_input
        features: [amount, account_age_days, country]
    encodings:                   # categorical features; default one_hot over declared categories
      country: {kind: one_hot, categories: [US, GB, DE]}
      channel: {kind: ordinal, categories: [web, ios, android], unknown: -1}
    missing: null                # numeric fill for a missing value; null keeps NaN (trees route NaN)

Without a file, a model whose ONNX has one input gets every numeric and categorical feature in
declared order, categoricals one-hot over their declared categories. ``resolve_mapping`` fills
categories in from the model, so the stored mapping stays valid if monitors.yaml changes later.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.monitors import FeatureType, Model
from shadow.errors import InvalidMapping

__all__ = ["CategoricalEncoding", "EncodingKind", "InputMapping", "TensorInput", "default_mapping",
           "mapping_document", "parse_mapping", "resolve_mapping", "tensor_widths"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EncodingKind(str, Enum):
    one_hot = "one_hot"  # one column per category; an unseen or missing category is all zeros
    ordinal = "ordinal"  # one column holding the category's index; unseen or missing -> unknown


class CategoricalEncoding(_Frozen):
    kind: EncodingKind = EncodingKind.one_hot
    categories: tuple[str, ...] | None = None  # None: the feature's declared categories
    unknown: float = -1.0  # ordinal only

    def width(self) -> int:
        return 1 if self.kind is EncodingKind.ordinal else len(self.categories or ())


class TensorInput(_Frozen):
    name: str = Field(min_length=1)
    features: tuple[str, ...] = Field(min_length=1)


class InputMapping(_Frozen):
    inputs: tuple[TensorInput, ...] = Field(min_length=1)
    encodings: dict[str, CategoricalEncoding] = Field(default_factory=dict)
    missing: float | None = None

    def width(self, tensor: TensorInput) -> int:
        """Columns of ``tensor``: 1 per numeric or ordinal feature, k per one-hot feature."""
        return sum(self.encodings[f].width() if f in self.encodings else 1 for f in tensor.features)


def parse_mapping(document: Any) -> InputMapping:
    """The mapping from a parsed YAML document. Raises InvalidMapping naming each problem."""
    try:
        return InputMapping.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())
        raise InvalidMapping(f"mapping: {problems}") from None


def default_mapping(model: Model, input_name: str) -> InputMapping:
    """Every numeric and categorical feature in declared order into one tensor ``input_name``."""
    names = tuple(f.name for f in model.features if f.type is not FeatureType.text)
    if not names:
        raise InvalidMapping(f"model {model.name!r} has no numeric or categorical feature to feed")
    return InputMapping(inputs=(TensorInput(name=input_name, features=names),))


def resolve_mapping(mapping: InputMapping, model: Model) -> InputMapping:
    """``mapping`` checked against ``model``: every fed feature is declared, numeric or
    categorical; every categorical has an encoding with its categories filled in.

    Raises InvalidMapping with the feature at fault."""
    fed = [f for tensor in mapping.inputs for f in tensor.features]
    repeated = sorted({f for f in fed if fed.count(f) > 1})
    if repeated:
        raise InvalidMapping(f"mapping feeds feature(s) more than once: {', '.join(repeated)}")
    unused = sorted(set(mapping.encodings) - set(fed))
    if unused:
        raise InvalidMapping(f"encodings name feature(s) no input feeds: {', '.join(unused)}")
    encodings: dict[str, CategoricalEncoding] = {}
    for name in fed:
        feature = model.feature(name)
        if feature is None:
            raise InvalidMapping(f"mapping feeds {name!r}, which model {model.name!r} does not declare")
        if feature.type is FeatureType.text:
            raise InvalidMapping(f"feature {name!r} is text: only numeric and categorical features can be fed")
        declared = mapping.encodings.get(name)
        if feature.type is FeatureType.numeric:
            if declared is not None:
                raise InvalidMapping(f"feature {name!r} is numeric: it takes no categorical encoding")
            continue
        encodings[name] = _complete(name, declared or CategoricalEncoding(), feature.categories)
    return mapping.model_copy(update={"encodings": encodings})


def _complete(name: str, encoding: CategoricalEncoding, declared: tuple[str, ...] | None) -> CategoricalEncoding:
    categories = encoding.categories if encoding.categories is not None else declared
    if not categories:
        raise InvalidMapping(
            f"categorical feature {name!r} has no categories: declare them on the feature or in the mapping's encodings")
    if len(set(categories)) != len(categories):
        raise InvalidMapping(f"categorical feature {name!r} lists a category twice")
    return encoding.model_copy(update={"categories": tuple(categories)})


def mapping_document(mapping: InputMapping) -> dict[str, Any]:
    """The JSON stored with the candidate (round-trips through parse_mapping)."""
    return mapping.model_dump(mode="json")


def tensor_widths(mapping: InputMapping) -> Mapping[str, int]:
    return {tensor.name: mapping.width(tensor) for tensor in mapping.inputs}
