from pathlib import Path

import pytest
import yaml

from config import ConfigError, FeatureType, Settings, Task, default_monitors_path, load_monitors, parse_monitors


def _model(**overrides):
    model = {
        "name": "m",
        "task": "binary",
        "positive_class": 1,
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
    }
    model.update(overrides)
    return model


def _issues(document) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_monitors(document, "t.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_example_file_loads_and_is_the_default():
    monitors = load_monitors(default_monitors_path())
    model = monitors.model("fraud-detector")
    assert model is not None
    assert model.task is Task.binary
    assert model.positive_class == "1"
    assert model.feature("country").type is FeatureType.categorical
    assert "channel" in model.slices
    assert Settings().config == default_monitors_path()


def test_yaml_ints_become_text_labels():
    monitors = parse_monitors({"models": [_model(classes=[0, 1])]})
    assert monitors.models[0].classes == ("0", "1")
    assert monitors.models[0].positive_class == "1"


def test_every_error_is_reported_with_its_path():
    bad = {
        "models": [
            _model(task="ranking"),
            _model(name="m2", features=[{"name": "x", "type": "numeric", "range": [5, 1]}], sampling_rate=2),
        ],
        "surprise": True,
    }
    issues = _issues(bad)
    assert any(i.startswith("models[0].task:") for i in issues)
    assert any(i.startswith("models[1].features[0]") and "range lower bound 5.0" in i for i in issues)
    assert any(i.startswith("models[1].sampling_rate:") for i in issues)
    assert any(i.startswith("surprise:") for i in issues)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"positive_class": None}, "needs positive_class"),
        ({"classes": ["a", "b", "c"]}, "exactly 2 classes"),
        ({"features": [{"name": "x", "type": "numeric"}, {"name": "x", "type": "numeric"}]}, "duplicate feature names: x"),
        ({"features": [{"name": "c", "type": "text", "categories": ["a"]}]}, "categories are only allowed"),
        ({"pii": {"fields": {"nope": "hash"}}}, "pii.fields names unknown fields: nope"),
        ({"pii": {"fields": {"x": "encrypt"}}}, "pii.fields.x"),
        ({"name": "bad name!"}, "models[0].name"),
        ({"features": []}, "models[0].features"),
    ],
)
def test_semantic_errors(overrides, needle):
    assert any(needle in issue for issue in _issues({"models": [_model(**overrides)]}))


def test_duplicate_models_rejected():
    assert any("duplicate model names: m" in i for i in _issues({"models": [_model(), _model()]}))


def test_regression_has_no_classes():
    assert any("regression model has no classes" in i for i in _issues({"models": [_model(task="regression")]}))


def test_invalid_yaml_names_the_line(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("models:\n  - name: a\n    task: [binary\n")
    with pytest.raises(ConfigError) as caught:
        load_monitors(path)
    assert "line" in str(caught.value.issues[0]) and "invalid YAML" in str(caught.value.issues[0])


def test_top_level_must_be_mapping():
    assert _issues(["a"]) == ["top level must be a mapping, got list"]


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELWATCH_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("MODELWATCH_PORT", "9123")
    monkeypatch.setenv("MODELWATCH_PII_KEY", "s3cret")
    settings = Settings()
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.port == 9123
    assert "s3cret" not in repr(settings)
    assert Settings(port=1).port == 1  # explicit values (CLI flags) win over the environment


def test_example_round_trips_through_yaml():
    document = yaml.safe_load(default_monitors_path().read_text())
    assert parse_monitors(document).models[0].name == "fraud-detector"
