"""ONNX Runtime sessions for candidates: provider choice, tuned options, and the provider really
in use. One code path on CPU and GPU; what differs is decided from the session at run time.

ONNX Runtime silently falls back to the CPU when a GPU provider cannot start (missing CUDA or
cuDNN libraries, no device, an unsupported operator), so the provider in use is read back
from ``session.get_providers()`` after creation, never assumed from the request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GPU_PROVIDERS", "PREFERRED_PROVIDERS", "SessionConfig", "ShadowSession", "choose_providers",
           "default_intra_op_threads", "onnx_dtype"]

PREFERRED_PROVIDERS: tuple[str, ...] = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
GPU_PROVIDERS = frozenset({"TensorrtExecutionProvider", "CUDAExecutionProvider"})
_DTYPES: dict[str, np.dtype] = {"tensor(float)": np.dtype(np.float32), "tensor(double)": np.dtype(np.float64)}


@dataclass(frozen=True)
class SessionConfig:
    """``providers``: restrict to these (None: every preferred one installed). ``intra_op_threads``:
    None = 1 when only the CPU runs (measured ~2x faster for tree models on 2 shared cores),
    ONNX Runtime's default otherwise. ``io_binding``: None = on when a GPU provider is in use."""

    providers: tuple[str, ...] | None = None
    intra_op_threads: int | None = None
    io_binding: bool | None = None
    device_id: int = 0
    trt_cache_dir: str | None = None  # TensorRT engines are slow to build: cache them across starts


def choose_providers(available: Sequence[str], allowed: Sequence[str] | None = None) -> list[str]:
    """The providers to request, in order TensorRT, CUDA, CPU, keeping those in ``available``
    (and in ``allowed`` when given). Raises ValueError when none is left."""
    chosen = [p for p in PREFERRED_PROVIDERS if p in available and (allowed is None or p in allowed)]
    if not chosen:
        raise ValueError(f"no usable execution provider: available {list(available)}, allowed {allowed}")
    return chosen


def default_intra_op_threads(providers: Sequence[str]) -> int:
    """1 on a CPU-only session, 0 (ONNX Runtime decides) when a GPU does the work."""
    return 0 if GPU_PROVIDERS.intersection(providers) else 1


def onnx_dtype(onnx_type: str) -> np.dtype:
    """numpy dtype fed to an input of ``onnx_type``; raises ValueError for other types."""
    if onnx_type not in _DTYPES:
        raise ValueError(f"input type {onnx_type} is not fed by modelwatch (float or double tensors only)")
    return _DTYPES[onnx_type]


def _provider_options(name: str, config: SessionConfig) -> dict[str, Any]:
    if name == "TensorrtExecutionProvider":
        options: dict[str, Any] = {"device_id": config.device_id}
        if config.trt_cache_dir:
            options.update(trt_engine_cache_enable=True, trt_engine_cache_path=config.trt_cache_dir)
        return options
    if name == "CUDAExecutionProvider":
        return {"device_id": config.device_id}
    return {}


class ShadowSession:
    """An InferenceSession with the provider in use (``provider``) and ``run`` that times itself."""

    def __init__(self, content: bytes, config: SessionConfig | None = None) -> None:
        import onnxruntime as ort

        self.config = config or SessionConfig()
        requested = choose_providers(ort.get_available_providers(), self.config.providers)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        threads = self.config.intra_op_threads
        options.intra_op_num_threads = default_intra_op_threads(requested) if threads is None else threads
        options.inter_op_num_threads = 1  # sequential execution: one batch at a time per session
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(
            content, sess_options=options, providers=[(p, _provider_options(p, self.config)) for p in requested])
        self.requested = tuple(requested)
        self.active = tuple(self.session.get_providers())
        self.provider = self.active[0]  # the first active provider runs the supported nodes
        self.intra_op_threads = options.intra_op_num_threads
        self.inputs = tuple((i.name, i.type, tuple(i.shape)) for i in self.session.get_inputs())
        self.outputs = tuple((o.name, o.type, tuple(o.shape)) for o in self.session.get_outputs())
        self._device = "cuda" if self.provider in GPU_PROVIDERS else "cpu"
        tensors_only = all(o[1].startswith("tensor(") for o in self.outputs)
        wanted = self.config.io_binding if self.config.io_binding is not None else self._device == "cuda"
        # ZipMap's seq(map) outputs cannot be bound: such models take the plain run.
        self.io_binding = bool(wanted and tensors_only)

    @property
    def fell_back(self) -> bool:
        """A GPU provider was requested but the CPU is doing the work."""
        return bool(GPU_PROVIDERS.intersection(self.requested)) and self.provider not in GPU_PROVIDERS

    def run(self, feeds: Mapping[str, np.ndarray]) -> tuple[dict[str, Any], float]:
        """(outputs by name, wall milliseconds of the run including device copies)."""
        began = time.perf_counter()
        if self.io_binding:
            values = self._run_bound(feeds)
        else:
            values = self.session.run(None, dict(feeds))
        elapsed_ms = (time.perf_counter() - began) * 1000.0
        return dict(zip((o[0] for o in self.outputs), values)), elapsed_ms

    def _run_bound(self, feeds: Mapping[str, np.ndarray]) -> list[Any]:
        import onnxruntime as ort

        binding = self.session.io_binding()
        for name, array in feeds.items():
            # Inputs are copied to the device once, explicitly; outputs are bound to host memory.
            value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array), self._device, self.config.device_id)
            binding.bind_ortvalue_input(name, value)
        for name, _type, _shape in self.outputs:
            binding.bind_output(name, "cpu")
        self.session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()
