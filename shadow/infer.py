"""One batch through a candidate: encode, run, decode, with per-row errors and latency.

A batch that fails as a whole in ONNX Runtime is retried row by row, so one poisonous row
costs its own output only; rows that fail alone keep the runtime's message as their error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from shadow.encode import encode
from shadow.mapping import InputMapping
from shadow.outputs import DecodedOutputs, OutputSemantics, decode_outputs
from shadow.session import ShadowSession

__all__ = ["InferredBatch", "Runnable", "infer"]

_ERROR_CHARS = 500  # a runtime message can quote the whole graph; stored errors stay short


@dataclass(frozen=True, eq=False)
class Runnable:
    """What inference needs of a candidate: its session and how to feed and read it."""

    session: ShadowSession
    mapping: InputMapping
    semantics: OutputSemantics
    dtypes: Mapping[str, np.dtype]
    positive_class: str | None


@dataclass(frozen=True, eq=False)
class InferredBatch:
    """Row i: label / score / value (None / NaN where absent), ``errors[i]`` (None when it ran),
    and the wall time and size of the session run that produced it."""

    label: np.ndarray
    score: np.ndarray
    value: np.ndarray
    errors: np.ndarray
    batch_latency_ms: np.ndarray
    batch_size: np.ndarray
    provider: str

    @property
    def n(self) -> int:
        return int(self.label.shape[0])


def _empty(n: int, provider: str, errors: np.ndarray) -> InferredBatch:
    return InferredBatch(label=np.full(n, None, dtype=object), score=np.full(n, np.nan), value=np.full(n, np.nan),
                         errors=errors, batch_latency_ms=np.zeros(n), batch_size=np.zeros(n, dtype=np.int64),
                         provider=provider)


def _place(out: InferredBatch, rows: np.ndarray, decoded: DecodedOutputs, latency_ms: float) -> None:
    out.label[rows] = decoded.label
    out.score[rows] = decoded.score
    out.value[rows] = decoded.value
    out.batch_latency_ms[rows] = latency_ms
    out.batch_size[rows] = rows.shape[0]


def infer(candidate: Runnable, features: Mapping[str, np.ndarray], raw: Mapping[str, np.ndarray], n: int) -> InferredBatch:
    """Candidate outputs for ``n`` rows of feature columns (see shadow.encode.encode)."""
    encoded = encode(candidate.mapping, features, raw, n, candidate.dtypes)
    out = _empty(n, candidate.session.provider, encoded.errors)
    if encoded.n_fed == 0:
        return out
    try:
        outputs, latency_ms = candidate.session.run(encoded.feeds)
        _place(out, encoded.fed, decode_outputs(candidate.semantics, outputs, encoded.n_fed, candidate.positive_class),
               latency_ms)
    except Exception:  # onnxruntime raises its own Fail/InvalidArgument types: isolate the row at fault
        for j, row in enumerate(encoded.fed):
            single = {name: array[j:j + 1] for name, array in encoded.feeds.items()}
            try:
                outputs, latency_ms = candidate.session.run(single)
                _place(out, np.array([row]), decode_outputs(candidate.semantics, outputs, 1, candidate.positive_class),
                       latency_ms)
            except Exception as exc:  # recorded on the row, counted in the error rate
                out.errors[row] = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    return out
