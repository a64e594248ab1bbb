"""Where the project's bundled resources live."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
DEMO_DATASET = RESOURCES / "demo"
ICON = RESOURCES / "icons" / "workbench.svg"
