"""Rebuild ``candidate.onnx``, the demo's shadow candidate: a gradient-boosted classifier trained
on the demo's own synthetic traffic (it learns the country, channel and hour effects the
production model ignores), converted with skl2onnx.

    python -m modelwatch.demo.make_candidate      (needs the dev extra: scikit-learn, skl2onnx)

The file is committed so the demo needs only ONNX Runtime (the ``cpu`` extra) at run time.
"""

from __future__ import annotations

import random
from pathlib import Path

from modelwatch.demo.traffic import encode, features, true_label

OUTPUT = Path(__file__).with_name("candidate.onnx")


def build(n: int = 20_000, seed: int = 11) -> bytes:
    """The ONNX bytes of a classifier trained on ``n`` synthetic rows (half of them drifted)."""
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.ensemble import GradientBoostingClassifier

    rng = random.Random(seed)
    rows = [features(rng, drifted=i % 2 == 1) for i in range(n)]
    x = np.array([encode(f) for f in rows], dtype=np.float32)
    y = np.array([int(true_label(rng, f)) for f in rows])
    model = GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=seed).fit(x, y)
    onnx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset=17)
    return onnx.SerializeToString()


if __name__ == "__main__":
    OUTPUT.write_bytes(build())
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
