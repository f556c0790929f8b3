"""Registration: validation errors, immutability by sha256, list / remove, the production ONNX
for the noise floor. SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from shadow.errors import CandidateExists, CandidateNotFound, InvalidArtifact, InvalidMapping, SampleRunFailed, ShadowError
from shadow.mapping import parse_mapping
from shadow.outputs import OutputSemantics
from shadow.registry import get_candidate, list_candidates, register_candidate, remove_candidate
from store.schema_shadow import candidates, shadow_artifacts
from tests.shadow.conftest import Models, Seed, make_data


def test_register_stores_artifact_mapping_semantics_and_provider(small_seed: Seed, models: Models) -> None:
    result = register_candidate(small_seed.engine, small_seed.model, "gbm-v2", models.onnx["better"])
    c = result.candidate
    assert result.created and result.sample_rows == 64 and result.provider == "CPUExecutionProvider"
    assert c.provider == "CPUExecutionProvider" and not c.production and c.active
    assert c.mapping.inputs[0].features == ("x1", "x2", "x3", "country")
    assert c.mapping.encodings["country"].categories == ("DE", "FR", "US")
    assert (c.semantics.label, c.semantics.probabilities, c.semantics.classes) == ("label", "probabilities", ("0", "1"))
    with small_seed.engine.connect() as conn:
        stored = conn.execute(sa.select(shadow_artifacts.c.content, shadow_artifacts.c.size_bytes)).one()
    assert bytes(stored.content) == models.onnx["better"] and stored.size_bytes == len(models.onnx["better"])
    assert c.sha256 == __import__("hashlib").sha256(models.onnx["better"]).hexdigest()


def test_artifacts_are_immutable_per_name(small_seed: Seed, models: Models) -> None:
    register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["better"])
    again = register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["better"])
    assert not again.created
    with pytest.raises(CandidateExists, match="a changed artifact is a new candidate"):
        register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["worse"])
    # The same bytes under another name share one stored artifact.
    register_candidate(small_seed.engine, small_seed.model, "v2-copy", models.onnx["better"])
    with small_seed.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(shadow_artifacts)).scalar() == 1


def test_list_remove_and_revive(small_seed: Seed, models: Models) -> None:
    result = register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["better"], production=models.onnx["production"])
    production = result.production
    assert production is not None and production.production and production.name.startswith("production-")
    assert [c.name for c in list_candidates(small_seed.engine, "fraud")] == [production.name, "v2"]
    assert [c.name for c in list_candidates(small_seed.engine, "fraud", production=False)] == ["v2"]
    removed = remove_candidate(small_seed.engine, "fraud", "v2")
    assert removed.removed_at is not None
    assert [c.name for c in list_candidates(small_seed.engine, "fraud")] == [production.name]
    assert [c.name for c in list_candidates(small_seed.engine, "fraud", include_removed=True)] == [production.name, "v2"]
    with pytest.raises(CandidateNotFound):
        remove_candidate(small_seed.engine, "fraud", "v2")
    with pytest.raises(CandidateNotFound):
        get_candidate(small_seed.engine, "fraud", "v2")
    # Removed names stay bound to their bytes; the same file brings the candidate back.
    with pytest.raises(CandidateExists):
        register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["worse"])
    assert register_candidate(small_seed.engine, small_seed.model, "v2", models.onnx["better"]).candidate.active


def test_a_new_production_file_retires_the_previous_one(small_seed: Seed, models: Models) -> None:
    first = register_candidate(small_seed.engine, small_seed.model, "a", models.onnx["better"], production=models.onnx["production"])
    second = register_candidate(small_seed.engine, small_seed.model, "b", models.onnx["worse"], production=models.onnx["same"])
    assert first.production is not None and second.production is not None
    active = [c.name for c in list_candidates(small_seed.engine, "fraud", production=True)]
    assert active == [second.production.name]


def test_not_an_onnx_file(small_seed: Seed) -> None:
    with pytest.raises(InvalidArtifact, match="ONNX Runtime cannot load the file"):
        register_candidate(small_seed.engine, small_seed.model, "junk", b"this is not a model")
    with pytest.raises(InvalidArtifact, match="empty"):
        register_candidate(small_seed.engine, small_seed.model, "empty", b"")


def test_wrong_input_width(small_seed: Seed, models: Models) -> None:
    narrow = parse_mapping({"inputs": [{"name": "X", "features": ["x1", "x2", "x3"]}]})
    with pytest.raises(InvalidMapping, match="input 'X' takes 6 columns; the mapping gives 3"):
        register_candidate(small_seed.engine, small_seed.model, "narrow", models.onnx["better"], mapping=narrow)
    wrong_name = parse_mapping({"inputs": [{"name": "features", "features": ["x1"]}]})
    with pytest.raises(InvalidMapping, match=r"also needs input\(s\) \['X'\]"):
        register_candidate(small_seed.engine, small_seed.model, "misnamed", models.onnx["better"], mapping=wrong_name)


def test_bad_mapping_and_bad_names(small_seed: Seed, models: Models) -> None:
    with pytest.raises(InvalidMapping, match="does not declare"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["better"],
                           mapping=parse_mapping({"inputs": [{"name": "X", "features": ["amount"]}]}))
    with pytest.raises(ShadowError, match="invalid candidate name"):
        register_candidate(small_seed.engine, small_seed.model, "production-mine", models.onnx["better"])
    with pytest.raises(ShadowError, match="sample_rate"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["better"], sample_rate=0.0)
    with small_seed.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(candidates)).scalar() == 0


def test_outputs_that_are_not_the_models_classes(small_seed: Seed, models: Models) -> None:
    renamed = OutputSemantics(kind="classifier", label="label", probabilities="probabilities", classes=("no", "yes"))
    with pytest.raises(InvalidArtifact, match="not the model's classes"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["better"], semantics=renamed)
    with pytest.raises(InvalidArtifact, match="has no output 'score'"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["better"],
                           semantics=OutputSemantics(kind="classifier", probabilities="score"))


def test_a_regressor_is_not_a_classifier_candidate(small_seed: Seed, models: Models) -> None:
    with pytest.raises(InvalidArtifact, match=r"output 'variable' has 1 column\(s\) for 2 classes"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["regressor"])


def test_registration_on_an_empty_store_runs_a_synthetic_row(sqlite_engine: sa.Engine, models: Models) -> None:
    from store.catalog import sync_models
    from tests.shadow.conftest import monitors

    mons = monitors()
    sync_models(sqlite_engine, mons)
    result = register_candidate(sqlite_engine, mons.model("fraud"), "first", models.onnx["better"])
    assert result.sample_rows == 0 and result.created
    assert make_data(np.random.default_rng(0), 1).x.shape == (1, 3)


def test_sample_run_failure_names_the_row(small_seed: Seed, models: Models, monkeypatch: pytest.MonkeyPatch) -> None:
    import shadow.session as session_module

    def explode(self: object, feeds: object) -> object:
        raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : boom")

    monkeypatch.setattr(session_module.ShadowSession, "run", explode)
    with pytest.raises(SampleRunFailed, match=r"64 of 64 sample row\(s\) failed; prediction 'p\d+': RuntimeError"):
        register_candidate(small_seed.engine, small_seed.model, "x", models.onnx["better"])
