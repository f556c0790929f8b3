"""Copy the browser tests' screenshots of the main pages into docs/screenshots/ for the README,
trimmed of empty space, scaled to 3/4 and reduced to 128 colours (about 50-100 kB each).

    python -m pytest tests/dashboard/test_browser.py && python -m tests.dashboard.docs_screenshots
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "test-artifacts" / "screenshots"
TARGET = REPO / "docs" / "screenshots"
PAGES = ("overview", "oncall", "debug", "slos", "shadow", "alerts")
SIDEBAR_PX = 310  # the sidebar runs the full height: look for content right of it


def trimmed(image: Image.Image) -> Image.Image:
    """The image down to its last row of page content, plus a margin."""
    pixels = np.asarray(image).astype(int)
    background = pixels[-5, -5]
    used = np.flatnonzero((np.abs(pixels[:, SIDEBAR_PX:] - background).sum(axis=2) > 30).any(axis=1))
    bottom = min(image.height, int(used.max()) + 40) if used.size else image.height
    return image.crop((0, 0, image.width, bottom))


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        image = trimmed(Image.open(SOURCE / f"{page}.png").convert("RGB"))
        small = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(TARGET / f"{page}.png", optimize=True)
        print(f"docs/screenshots/{page}.png  {small.width}x{small.height}  {(TARGET / f'{page}.png').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
