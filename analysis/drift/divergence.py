"""Divergences between binned distributions: PSI, KL, Jensen-Shannon, Hellinger.

Registered for both kinds: numeric features use the reference's quantile bins plus the missing
bin; categorical features the top-k categories plus other / unseen / missing. The p-value is
the chi-square test of homogeneity on the same bins (binned.homogeneity_test): it tests the
null hypothesis under which every one of these divergences is 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from analysis.drift.binned import binned_result, smooth
from analysis.drift.registry import KINDS, FeatureKind, StatResult, register


def psi(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Population stability index ``sum (c_i - r_i) ln(c_i / r_i)`` on smoothed proportions."""
    r, c = smooth(p_ref), smooth(p_cur)
    return float(np.sum((c - r) * np.log(c / r)))


def kl_divergence(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """``KL(current || reference) = sum c_i ln(c_i / r_i)`` in nats, on smoothed proportions."""
    return float(np.sum(special.rel_entr(smooth(p_cur), smooth(p_ref))))


def jensen_shannon(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Jensen-Shannon distance, base 2: ``sqrt((KL(r||m) + KL(c||m)) / 2) / sqrt(ln 2)``,
    m = (r + c) / 2, in [0, 1]; unsmoothed (finite with empty bins)."""
    m = (p_ref + p_cur) / 2.0
    js = (np.sum(special.rel_entr(p_ref, m)) + np.sum(special.rel_entr(p_cur, m))) / math.log(2.0)
    return float(math.sqrt(max(js / 2.0, 0.0)))


def hellinger(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Hellinger distance ``sqrt(sum (sqrt r_i - sqrt c_i)^2 / 2)``, in [0, 1]; unsmoothed."""
    d = np.sqrt(p_ref) - np.sqrt(p_cur)
    return float(math.sqrt(0.5 * float(np.dot(d, d))))


def _register_all(kind: FeatureKind) -> None:
    specs = [
        ("psi", psi, (0.0, math.inf), 0.2, "population stability index (symmetric KL), smoothed, ln"),
        ("kl", kl_divergence, (0.0, math.inf), 0.1, "KL(current || reference), smoothed, nats"),
        ("jensen_shannon", jensen_shannon, (0.0, 1.0), 0.1, "Jensen-Shannon distance, base 2"),
        ("hellinger", hellinger, (0.0, 1.0), 0.1, "Hellinger distance"),
    ]
    for name, fn, value_range, threshold, description in specs:
        def compute(ref: Any, cur: Any, _name: str = name, _fn: Any = fn) -> StatResult:
            return binned_result(_name, kind, ref, cur, _fn)
        compute.__doc__ = fn.__doc__
        register(name, kind=kind, value_range=value_range, default_threshold=threshold,
                 test="chi2_homogeneity", description=description)(compute)


for _kind in KINDS:
    _register_all(_kind)
