"""Turn an ONNX file and a (possibly implicit) mapping into a Runnable candidate, checking on
the way that the file loads and that the mapping fits its inputs and the model's features."""

from __future__ import annotations

from dataclasses import dataclass

from config.monitors import Model
from shadow.artifact import check_inputs, graph_class_labels
from shadow.errors import InvalidArtifact, InvalidMapping
from shadow.infer import Runnable
from shadow.mapping import InputMapping, default_mapping, resolve_mapping
from shadow.outputs import OnnxOutput, OutputSemantics, infer_semantics
from shadow.session import SessionConfig, ShadowSession

__all__ = ["open_session", "prepare"]


def open_session(content: bytes, config: SessionConfig | None = None) -> ShadowSession:
    """A session on ``content``; raises InvalidArtifact when ONNX Runtime cannot load it."""
    if not content:
        raise InvalidArtifact("the file is empty")
    try:
        return ShadowSession(content, config)
    except ValueError:
        raise  # no usable provider: a deployment problem, not the artifact's
    except Exception as exc:  # onnxruntime's InvalidProtobuf / Fail / NotImplemented: say why, once
        raise InvalidArtifact(f"ONNX Runtime cannot load the file: {str(exc)[:300]}") from None


@dataclass(frozen=True, eq=False)
class Prepared:
    runnable: Runnable
    mapping: InputMapping  # resolved: categories filled in
    semantics: OutputSemantics  # resolved: classes filled in


def prepare(content: bytes, model: Model, mapping: InputMapping | None = None,
            semantics: OutputSemantics | None = None, config: SessionConfig | None = None,
            resolved: bool = False) -> Prepared:
    """Open ``content`` for ``model``. Without ``mapping`` the ONNX model must have exactly one
    input (the default mapping feeds it); without ``semantics`` they are inferred from its
    outputs. ``resolved``: mapping and semantics come from the store as registered (no inference).

    Raises InvalidArtifact or InvalidMapping with the reason."""
    session = open_session(content, config)
    if mapping is None:
        if len(session.inputs) != 1:
            names = [i[0] for i in session.inputs]
            raise InvalidMapping(f"the ONNX model has {len(names)} inputs {names}: give a mapping file saying what feeds each")
        mapping = default_mapping(model, session.inputs[0][0])
    if not resolved:
        mapping = resolve_mapping(mapping, model)
        outputs = [OnnxOutput(name, kind, shape) for name, kind, shape in session.outputs]
        semantics = infer_semantics(outputs, model, graph_class_labels(content), semantics)
    if semantics is None:
        raise InvalidArtifact("stored candidate has no output semantics")
    dtypes = check_inputs(mapping, session.inputs)
    runnable = Runnable(session=session, mapping=mapping, semantics=semantics, dtypes=dtypes,
                        positive_class=model.positive_class)
    return Prepared(runnable=runnable, mapping=mapping, semantics=semantics)
