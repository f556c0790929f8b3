"""Reference (baseline) uploads: CSV or Parquet -> checked, normalised, redacted flat rows.

Columns are the model's feature names plus, optionally, its prediction / score / label fields.
Problems are reported per column with the first bad row (0-based data row, header excluded).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from collector.errors import CollectorError, Problem
from collector.nul import NUL, NUL_VALUE
from collector.redaction import Redactor
from collector.validate import label_text
from config.monitors import FeatureType, Model, Task

PARQUET_MAGIC = b"PAR1"
# Spellings of "missing" accepted in numeric CSV cells (besides an empty cell).
_MISSING_NUMBERS = frozenset({"nan", "na", "n/a", "null", "none"})


def read_table(data: bytes) -> pd.DataFrame:
    """Parquet (recognised by its magic bytes) or CSV (UTF-8, header row) -> DataFrame. CSV
    cells stay text so that codes like ``NA`` (Namibia) or ``007`` survive; only empty cells
    are missing."""
    try:
        if data[:4] == PARQUET_MAGIC:
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas / pyarrow raise many types for a malformed file
        raise CollectorError(400, f"unreadable reference file ({type(exc).__name__}); send CSV with a header or Parquet") from None


def _first(mask: np.ndarray[Any, Any]) -> int:
    return int(np.flatnonzero(mask)[0])


def _numbers(column: pd.Series, name: str, problems: list[Problem]) -> list[float | None]:
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        text = column.astype("string")
        missing_word = text.str.strip().str.lower().isin(_MISSING_NUMBERS).fillna(False).to_numpy(bool)
        numbers = pd.to_numeric(text.where(~missing_word), errors="coerce").astype(float)
        bad = (column.notna().to_numpy(bool) & ~missing_word & numbers.isna().to_numpy(bool))
        if bad.any():
            problems.append(Problem(_first(bad), name, f"expected numbers; {int(bad.sum())} value(s) are not"))
            return []
    else:
        numbers = column.astype(float)
    values = numbers.to_numpy(float)
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(Problem(_first(infinite), name, "non-finite number (Infinity) is not allowed"))
        return []
    return [None if v != v else float(v) for v in values.tolist()]


def _texts(column: pd.Series, as_label: bool) -> list[str | None]:
    out: list[str | None] = []
    for value in column.astype(object).tolist():
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            out.append(None)
        else:
            out.append(label_text(value) if as_label else str(value))
    return out


def _check_nul(values: list[str | None], name: str, problems: list[Problem]) -> None:
    # PostgreSQL cannot store NUL: report it like any other bad value, with its first row.
    bad = next((i for i, v in enumerate(values) if v is not None and NUL in v), None)
    if bad is not None:
        problems.append(Problem(bad, name, NUL_VALUE))


def _check_columns(model: Model, columns: Sequence[str]) -> list[Problem]:
    outputs = {model.prediction_field, model.score_field, model.label_field}
    features = [f.name for f in model.features]
    problems = [Problem(None, c, "unknown column: neither a feature nor the prediction/score/label field")
                for c in columns if c not in outputs and c not in features]
    problems += [Problem(None, f, "missing feature column") for f in features if f not in columns]
    return problems


def reference_rows(model: Model, frame: pd.DataFrame, redactor: Redactor) -> list[dict[str, Any]]:
    """Flat rows (column -> value), typed by the model's schema and redacted.

    Raises CollectorError 422 listing every bad column (with its first bad row)."""
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    problems = _check_columns(model, columns)
    if frame.empty and not problems:
        problems.append(Problem(None, "", "the reference has no rows"))
    if problems:
        raise CollectorError(422, "reference does not match the model's schema", problems)
    values: dict[str, list[Any]] = {}
    for feature in model.features:
        column = frame[feature.name]
        if feature.type is FeatureType.numeric:
            values[feature.name] = _numbers(column, feature.name, problems)
        else:
            values[feature.name] = _texts(column, feature.type is FeatureType.categorical)
            _check_nul(values[feature.name], feature.name, problems)
        if not feature.nullable and values[feature.name] and None in values[feature.name]:
            problems.append(Problem(values[feature.name].index(None), feature.name, "null in a feature declared nullable: false"))
    regression = model.task is Task.regression
    for name, numeric in ((model.prediction_field, regression), (model.score_field, True), (model.label_field, regression)):
        if name in columns:
            values[name] = _numbers(frame[name], name, problems) if numeric else _texts(frame[name], True)
            if not numeric:
                _check_nul(values[name], name, problems)
    if problems:
        raise CollectorError(422, "reference does not match the model's schema", problems)
    names = list(values)
    rows = [dict(zip(names, row)) for row in zip(*values.values())]
    if redactor.active:
        redactor.features(rows)
    return rows
