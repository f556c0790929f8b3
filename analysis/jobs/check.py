"""``modelwatch check`` for a model's ``analysis:`` section: what the scheduler would reject when
it loads the section (unknown keys, unknown statistics, thresholds out of range), plus
performance thresholds that could never be evaluated for the model (pure)."""

from __future__ import annotations

from pydantic import ValidationError

from analysis.jobs.schedule import model_analysis
from analysis.performance.thresholds import check_thresholds
from config.monitors import Model
from config.slo import SloKind

__all__ = ["check_analysis"]


def _path(loc: tuple[object, ...]) -> str:
    out = "analysis"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def check_analysis(model: Model) -> list[str]:
    """Problems of ``model.analysis`` as ``analysis.<path>: <message>`` lines; empty when valid."""
    try:
        parsed = model_analysis(model)
    except ValidationError as exc:
        return [f"{_path(tuple(p for p in e['loc'] if not str(p).startswith('function-')))}: "
                f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
    except ValueError as exc:  # a validator's plain ValueError (e.g. an unknown statistic name)
        return [f"analysis: {exc}"]
    has_latency = any(slo.kind is SloKind.latency for slo in model.slos)
    return [f"analysis.performance.thresholds.{metric}: {problem}"
            for metric, problem in check_thresholds(parsed.policy.performance, model.task, has_latency)]
