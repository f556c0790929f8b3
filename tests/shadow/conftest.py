"""Shadow fixtures: real scikit-learn models trained here and converted with skl2onnx, and a
store seeded with logged production predictions (from the production model) and labels.

The data: a binary label that depends on x1, x2 and their interaction (which a linear model
cannot learn) plus a country effect. Production is a logistic regression; "better" a
histogram gradient boosting model; "worse" a logistic regression that never saw x1 and x2;
"same" the production model exported again (ZipMap output: other bytes, same predictions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import importlib.util

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from config.loader import parse_monitors
from config.monitors import Model, Monitors
from store.catalog import sync_models
from store.records import LabelRow, PredictionRow
from store.writes import write_labels, write_predictions
from tests.conftest import unavailable

COUNTRIES = ("DE", "FR", "US")
START = datetime(2024, 5, 1, tzinfo=timezone.utc)
N_ROWS = 1200
MODEL = "fraud"


def model_spec(name: str = MODEL) -> dict[str, Any]:
    return {
        "name": name, "task": "binary", "classes": ["0", "1"], "positive_class": "1",
        "features": [
            {"name": "x1", "type": "numeric"}, {"name": "x2", "type": "numeric"}, {"name": "x3", "type": "numeric"},
            {"name": "country", "type": "categorical", "categories": list(COUNTRIES)},
            {"name": "note", "type": "text"},
        ],
        "slices": ["country"],
        "slos": [{"name": "accuracy", "kind": "quality", "objective": 0.8}],
    }


def regression_spec() -> dict[str, Any]:
    return {"name": "prices", "task": "regression",
            "features": [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "numeric"},
                         {"name": "x3", "type": "numeric"},
                         {"name": "country", "type": "categorical", "categories": list(COUNTRIES)}],
            "slices": ["country"]}


def monitors() -> Monitors:
    return parse_monitors({"version": 1, "models": [model_spec(), regression_spec()]})


@dataclass(frozen=True)
class Data:
    x: np.ndarray  # (n, 3) float64
    country: np.ndarray  # object
    y: np.ndarray  # int labels
    target: np.ndarray  # regression target

    def matrix(self) -> np.ndarray:
        """The encoding the default mapping produces: x1, x2, x3, one-hot country."""
        onehot = np.stack([(self.country == c).astype(np.float64) for c in COUNTRIES], axis=1)
        return np.hstack([self.x, onehot]).astype(np.float32)


def make_data(rng: np.random.Generator, n: int) -> Data:
    x = rng.normal(size=(n, 3))
    country = np.array(COUNTRIES, dtype=object)[rng.choice(3, n, p=[0.5, 0.2, 0.3])]
    logit = 2.0 * x[:, 0] - 1.5 * x[:, 1] + 2.5 * x[:, 0] * x[:, 1] + 0.5 * (country == "FR")
    y = (logit + rng.normal(0, 0.5, n) > 0).astype(int)
    target = 3.0 * x[:, 0] + np.sin(2 * x[:, 1]) * 2 + (country == "US") + rng.normal(0, 0.2, n)
    return Data(x, country, y, target)


@dataclass(frozen=True)
class Models:
    production: Any
    better: Any
    worse: Any
    regressor: Any
    onnx: dict[str, bytes]  # production, same (ZipMap), better, worse, regressor, production_regressor


def _to_onnx(estimator: Any, example: np.ndarray, zipmap: bool = False) -> bytes:
    from skl2onnx import to_onnx

    options = None if zipmap or not hasattr(estimator, "predict_proba") else {id(estimator): {"zipmap": False}}
    return to_onnx(estimator, example[:1], options=options).SerializeToString()


def require_onnx_stack() -> None:
    """Skip locally, fail under CI=true: the shadow tests must run in CI (the dev extra)."""
    for package in ("onnxruntime", "skl2onnx", "sklearn", "onnx"):
        if importlib.util.find_spec(package) is None:
            unavailable(f"{package} is not installed: the shadow tests need onnxruntime, onnx, skl2onnx, scikit-learn")


@pytest.fixture(scope="session")
def models() -> Models:
    require_onnx_stack()
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression

    train = make_data(np.random.default_rng(1), 4000)
    m = train.matrix()
    production = LogisticRegression(max_iter=500).fit(m, train.y)
    better = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(m, train.y)
    blind = m.copy()
    blind[:, :2] = 0.0  # never sees x1, x2: deliberately worse
    worse = LogisticRegression(max_iter=500).fit(blind, train.y)
    regressor = GradientBoostingRegressor(n_estimators=40, random_state=0).fit(m, train.target)
    linear = LinearRegression().fit(m, train.target)
    onnx = {
        "production": _to_onnx(production, m), "same": _to_onnx(production, m, zipmap=True),
        "better": _to_onnx(better, m), "worse": _to_onnx(worse, m),
        "regressor": _to_onnx(regressor, m), "production_regressor": _to_onnx(linear, m),
    }
    return Models(production, better, worse, regressor, onnx)


@dataclass(frozen=True)
class Seed:
    engine: Engine
    monitors: Monitors
    model: Model
    data: Data
    ids: list[str]
    times: list[datetime]
    labelled: np.ndarray  # bool per row: a label was written

    @property
    def start(self) -> datetime:
        return START

    @property
    def end(self) -> datetime:
        return self.times[-1] + timedelta(seconds=1)


def features_of(data: Data, i: int) -> dict[str, Any]:
    return {"x1": float(data.x[i, 0]), "x2": float(data.x[i, 1]), "x3": float(data.x[i, 2]),
            "country": data.country[i], "note": "free text"}


def seed_store(engine: Engine, models: Models, n: int = N_ROWS, labelled: float = 0.9) -> Seed:
    """Logged production predictions (scikit-learn's own outputs) every 5 s, and labels for
    ``labelled`` of them; both models (classifier and regressor) get the same inputs."""
    mons = monitors()
    sync_models(engine, mons)
    rng = np.random.default_rng(7)
    data = make_data(rng, n)
    proba = models.production.predict_proba(data.matrix())[:, 1]
    value = models.regressor.predict(data.matrix())
    times = [START + timedelta(seconds=5 * i) for i in range(n)]
    ids = [f"p{i:05d}" for i in range(n)]
    latency = rng.gamma(4.0, 0.5, n)
    rows = []
    for i in range(n):
        common = {"time": times[i], "version": "v1", "prediction_id": ids[i], "features": features_of(data, i),
                  "latency_ms": float(latency[i]), "slices": {"country": data.country[i]}}
        rows.append(PredictionRow(model=MODEL, prediction=str(int(proba[i] > 0.5)), score=float(proba[i]), **common))
        rows.append(PredictionRow(model="prices", prediction=repr(float(value[i])), prediction_value=float(value[i]),
                                  **common))
    write_predictions(engine, rows)
    chosen = rng.random(n) < labelled
    write_labels(engine, [LabelRow(time=times[i] + timedelta(hours=1), model=MODEL, prediction_id=ids[i],
                                   label=str(int(data.y[i]))) for i in range(n) if chosen[i]]
                 + [LabelRow(time=times[i] + timedelta(hours=1), model="prices", prediction_id=ids[i],
                             label_value=float(data.target[i])) for i in range(n) if chosen[i]])
    return Seed(engine, mons, mons.model(MODEL), data, ids, times, chosen)


@pytest.fixture
def seed(engine: Engine, models: Models) -> Seed:
    return seed_store(engine, models)


@pytest.fixture
def small_seed(engine: Engine, models: Models) -> Seed:
    """200 rows: enough for registration's sample run, cheap to write."""
    return seed_store(engine, models, n=200)


@pytest.fixture
def sqlite_seed(sqlite_engine: Engine, models: Models) -> Seed:
    return seed_store(sqlite_engine, models)
