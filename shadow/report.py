"""The shadow report of a model over a time range: per active candidate its comparison with
production, per-slice results, replay progress and the verdict; plus the noise floor from the
production ONNX when one is registered. What the API and ``modelwatch shadow report`` return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.monitors import Model
from shadow.compare_slices import SliceComparison, compare_slices
from shadow.comparison import Comparison, NoiseFloor, compare, noise_floor
from shadow.errors import CandidateNotFound
from shadow.paired_reads import read_paired
from shadow.registry import Candidate, list_candidates
from shadow.verdict import Verdict, VerdictPolicy, decide, policy_for
from store.schema_shadow import shadow_progress

__all__ = ["CandidateReport", "Progress", "ShadowReport", "shadow_report"]


@dataclass(frozen=True)
class Progress:
    run: str
    rows_done: int
    cursor_time: datetime | None
    provider: str | None
    updated_at: datetime
    finished_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()
        return {"run": self.run, "rows_done": self.rows_done, "cursor_time": iso(self.cursor_time),
                "provider": self.provider, "updated_at": iso(self.updated_at), "finished_at": iso(self.finished_at)}


@dataclass(frozen=True)
class CandidateReport:
    candidate: Candidate
    progress: tuple[Progress, ...]
    comparison: Comparison
    slices: tuple[SliceComparison, ...]
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {"name": c.name, "sha256": c.sha256, "created_at": c.created_at.isoformat(), "provider": c.provider,
                "sample_rate": c.sample_rate, "verdict": self.verdict.to_dict(),
                "comparison": self.comparison.to_dict(), "slices": [s.to_dict() for s in self.slices],
                "progress": [p.to_dict() for p in self.progress]}


@dataclass(frozen=True)
class ShadowReport:
    model: str
    start: datetime
    end: datetime
    noise_floor: NoiseFloor | None
    candidates: tuple[CandidateReport, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "noise_floor": self.noise_floor.to_dict() if self.noise_floor else None,
                "candidates": [c.to_dict() for c in self.candidates]}


def _progress(engine: Engine, candidate_id: int) -> tuple[Progress, ...]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(shadow_progress).where(shadow_progress.c.candidate_id == candidate_id)
                            .order_by(shadow_progress.c.updated_at.desc())).all()
    return tuple(Progress(r.run, r.rows_done, r.cursor_time, r.provider, r.updated_at, r.finished_at) for r in rows)


def shadow_report(engine: Engine, model: Model, start: datetime, end: datetime, candidate: str | None = None,
                  policy: VerdictPolicy | None = None, confidence: float = 0.95) -> ShadowReport:
    """The report on ``model``'s active candidates (or the one named) over [start, end).
    Raises CandidateNotFound for an unknown ``candidate``."""
    policy = policy or policy_for(model)
    registered = list_candidates(engine, model.name)
    production = next((c for c in reversed(registered) if c.production), None)
    chosen = [c for c in registered if not c.production and (candidate is None or c.name == candidate)]
    if candidate is not None and not chosen:
        raise CandidateNotFound(model.name, candidate)
    noise = None
    if production is not None:
        with engine.connect() as conn:
            columns = read_paired(conn, model, production.id, start, end)
        noise = noise_floor(production.name, columns, model) if columns.n else None
    reports = []
    for cand in chosen:
        with engine.connect() as conn:
            columns = read_paired(conn, model, cand.id, start, end)
        comparison = compare(columns, model, confidence)
        slices = compare_slices(columns, model, confidence)
        verdict = decide(comparison, model.task, noise, slices, policy)
        reports.append(CandidateReport(cand, _progress(engine, cand.id), comparison, slices, verdict))
    return ShadowReport(model.name, start, end, noise, tuple(reports))
