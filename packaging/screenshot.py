"""Take the README's and docs' screenshots: the app on the demo data, answered by the real embedded model.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py docs/screenshot.png
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshot.py docs/screenshot-1280.png \\
        --size 1280x800
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py docs/comparison.png \\
        --scene comparison --limit 30

Opens the window in a private workspace (its own store, profiles and settings), at ``--size``.
Scene ``demo``: runs the two default variants (the local SmolLM2 model zero-shot, and with three
retrieved examples) over the first ``--limit`` demo dev questions and selects a question the two
disagree on. Scene ``comparison``: that run, its ``local-bm25`` variant pinned as the baseline, a
second version of the template saved (one instruction line added) and the same questions run
again; the accuracy table then shows both versions with Δ EX, fixed and broken, and the outputs
show a question the new version fixed or broke beside the baseline's answer. It saves what the
screen shows (under Xvfb: the real framebuffer; elsewhere the window's own rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
V2_LINE = "-- Answer with one SQLite query that uses only the tables above.\n"


async def demo_scene(session: Any, window: Any, limit: int) -> None:
    from workbench.core.reports.results import QuestionFilter

    session.limit = limit
    task = session.start_run("screenshot")
    assert task is not None
    await task
    print(f"run {session.state}: {session.results.done} answers", file=sys.stderr)
    session.set_filter(QuestionFilter("disagree"))
    visible = session.visible_indices()
    if visible:
        session.select_question(visible[min(2, len(visible) - 1)])
    window.context.variant.setCurrentIndex(window.context.variant.count() - 1)


async def comparison_scene(session: Any, window: Any, limit: int) -> None:
    from workbench.core.reports.results import QuestionFilter

    session.limit = limit
    first = session.start_run("prompt-v1")
    assert first is not None
    await first
    window.accuracy.pin("local-bm25")
    prompt = window.prompt
    prompt.templates.setCurrentText("completion_few_shot")
    text = prompt.editor.toPlainText()
    prompt.editor.setPlainText(text.replace("{{ schema.create_table }}\n", "{{ schema.create_table }}\n" + V2_LINE, 1))
    assert prompt.save() is not None, "the edited template has a problem"
    second = session.start_run("prompt-v2")
    assert second is not None
    await second
    print(f"runs {session.state}: {session.results.done} answers", file=sys.stderr)
    same = window.accuracy.model.comparisons.get("local-bm25")  # the baseline's variant, one prompt version on
    flips = sorted({*same.fixed, *same.broken}) if same else []
    if flips:
        session.set_filter(QuestionFilter("listed", items=frozenset(flips), label="local-bm25: fixed or broken by v2"))
        session.select_question(flips[0])
    window.docks["plots"].raise_()
    window.plots.visibility_changed(True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--size", default="1600x1000", help="the window's size, WIDTHxHEIGHT (match the X screen)")
    ap.add_argument("--scene", choices=("demo", "comparison"), default="demo")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    import qasync
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from workbench.ui.app import build, warm_up
    from workbench.ui.session import AppPaths

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def shoot(work: Path) -> None:
        os.environ["XDG_STATE_HOME"] = str(work / "state")  # the local model's log stays in the workspace
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # and the gold-result cache
        session, window = build(AppPaths(work / "workspace.sqlite", work / "profiles.json", work / "ui.ini"))
        window.resize(width, height)
        window.move(0, 0)
        window.show()
        await warm_up()
        await (comparison_scene if args.scene == "comparison" else demo_scene)(session, window, args.limit)
        await window.outputs.settle()
        await window.context.settle()
        await asyncio.sleep(0.5)
        app.processEvents()
        screen = QGuiApplication.primaryScreen()
        under_x = os.environ.get("DISPLAY") and QGuiApplication.platformName() == "xcb"
        image = screen.grabWindow(0) if under_x else window.grab()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(args.out))
        print(f"saved {args.out} ({image.width()}x{image.height()})", file=sys.stderr)
        window.close()
        await session.shutdown()

    with tempfile.TemporaryDirectory() as tmp, loop:
        loop.run_until_complete(shoot(Path(tmp)))


if __name__ == "__main__":
    main()
