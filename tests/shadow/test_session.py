"""ONNX Runtime sessions on real models made in the test: providers, the provider really in use,
IOBinding, and candidate outputs equal to scikit-learn's to 1e-5. CPU only here: the CUDA and
TensorRT providers are chosen by the same code at run time but are not exercised by this suite."""

from __future__ import annotations

import numpy as np
import pytest

from config.loader import parse_monitors
from shadow.infer import infer
from shadow.prepare import prepare
from shadow.session import SessionConfig, ShadowSession, choose_providers, default_intra_op_threads
from tests.shadow.conftest import Models, make_data, model_spec, regression_spec

MODELS = parse_monitors({"version": 1, "models": [model_spec(), regression_spec()]})
CPU = "CPUExecutionProvider"


def test_providers_are_preferred_tensorrt_cuda_cpu_among_those_installed() -> None:
    everything = ["CPUExecutionProvider", "CUDAExecutionProvider", "AzureExecutionProvider", "TensorrtExecutionProvider"]
    assert choose_providers(everything) == ["TensorrtExecutionProvider", "CUDAExecutionProvider", CPU]
    assert choose_providers(["AzureExecutionProvider", CPU]) == [CPU]
    assert choose_providers(everything, allowed=["CUDAExecutionProvider", CPU]) == ["CUDAExecutionProvider", CPU]
    with pytest.raises(ValueError, match="no usable execution provider"):
        choose_providers([CPU], allowed=["CUDAExecutionProvider"])
    assert default_intra_op_threads([CPU]) == 1
    assert default_intra_op_threads(["CUDAExecutionProvider", CPU]) == 0


def test_cpu_session_reports_the_provider_in_use_and_tuned_options(models: Models) -> None:
    session = ShadowSession(models.onnx["better"])
    assert session.provider == CPU and session.active[0] == CPU
    assert session.intra_op_threads == 1 and not session.fell_back and not session.io_binding
    assert ShadowSession(models.onnx["better"], SessionConfig(intra_op_threads=2)).intra_op_threads == 2


def test_a_silent_fallback_to_cpu_is_detected(models: Models, monkeypatch: pytest.MonkeyPatch) -> None:
    # Claim CUDA is installed: ONNX Runtime (a CPU build) then warns and runs on the CPU anyway,
    # exactly as a GPU build does when CUDA libraries are missing. The session must say so.
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", CPU])
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        session = ShadowSession(models.onnx["production"])
    assert session.requested == ("CUDAExecutionProvider", CPU)
    assert session.provider == CPU and session.fell_back
    assert session.intra_op_threads == 0  # chosen for the GPU that was requested
    assert not session.io_binding  # IOBinding follows the provider in use, not the one requested


def test_io_binding_path_gives_the_plain_run_outputs(models: Models) -> None:
    x = make_data(np.random.default_rng(9), 300).matrix()
    plain = ShadowSession(models.onnx["better"])
    bound = ShadowSession(models.onnx["better"], SessionConfig(io_binding=True))
    assert bound.io_binding
    a, _ = plain.run({"X": x})
    b, latency_ms = bound.run({"X": x})
    np.testing.assert_array_equal(a["label"], b["label"])
    np.testing.assert_array_equal(a["probabilities"], b["probabilities"])
    assert latency_ms > 0
    # ZipMap outputs (seq(map)) cannot be bound: that model takes the plain run.
    assert not ShadowSession(models.onnx["same"], SessionConfig(io_binding=True)).io_binding


@pytest.mark.parametrize("name, estimator", [("production", "production"), ("same", "production"),
                                             ("better", "better"), ("worse", "worse")])
def test_classifier_outputs_match_scikit_learn(models: Models, name: str, estimator: str) -> None:
    model = MODELS.model("fraud")
    data = make_data(np.random.default_rng(11), 500)
    runnable = prepare(models.onnx[name], model).runnable
    columns = {"x1": data.x[:, 0], "x2": data.x[:, 1], "x3": data.x[:, 2], "country": data.country}
    result = infer(runnable, columns, {}, 500)
    sklearn_model = getattr(models, estimator)
    proba = sklearn_model.predict_proba(data.matrix())[:, 1]
    np.testing.assert_allclose(result.score, proba, atol=1e-5)
    expected = sklearn_model.predict(data.matrix()).astype(str)
    close = np.abs(proba - 0.5) < 1e-5  # float32 vs float64 may flip a tie at the threshold
    assert (result.label[~close] == expected[~close]).all()
    assert (result.errors == None).all() and result.provider == CPU  # noqa: E711
    assert set(result.batch_size.tolist()) == {500}


def test_regressor_outputs_match_scikit_learn(models: Models) -> None:
    model = MODELS.model("prices")
    data = make_data(np.random.default_rng(12), 400)
    prepared = prepare(models.onnx["regressor"], model)
    assert prepared.semantics.kind == "regressor" and prepared.semantics.value == "variable"
    columns = {"x1": data.x[:, 0], "x2": data.x[:, 1], "x3": data.x[:, 2], "country": data.country}
    result = infer(prepared.runnable, columns, {}, 400)
    np.testing.assert_allclose(result.value, models.regressor.predict(data.matrix()), atol=1e-5)


def test_semantics_are_inferred_from_skl2onnx_outputs(models: Models) -> None:
    model = MODELS.model("fraud")
    tensor = prepare(models.onnx["better"], model).semantics
    assert (tensor.kind, tensor.label, tensor.probabilities) == ("classifier", "label", "probabilities")
    assert tensor.classes == ("0", "1") and tensor.raw_classes == ("0", "1")  # from the graph's classlabels
    zipmap = prepare(models.onnx["same"], model).semantics
    assert (zipmap.label, zipmap.probabilities) == ("output_label", "output_probability")
