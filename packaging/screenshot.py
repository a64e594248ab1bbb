"""Take README's screenshot: the app on the demo data, answered by the real embedded model.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py docs/screenshot.png [--limit 40]

Opens the window in a private workspace, runs the two default variants (the local
SmolLM2 model zero-shot, and with three retrieved examples) over the first ``--limit``
demo dev questions, selects a question the two variants disagree on, and saves what the
screen shows (under Xvfb: the real framebuffer; elsewhere the window's own rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--limit", type=int, default=40)
    args = ap.parse_args()

    import qasync
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from workbench.core.reports.results import QuestionFilter
    from workbench.ui.app import build, warm_up
    from workbench.ui.session import AppPaths

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def shoot(work: Path) -> None:
        session, window = build(AppPaths(work / "workspace.sqlite", work / "profiles.json", work / "ui.ini"))
        window.resize(1600, 1000)
        window.move(0, 0)
        window.show()
        await warm_up()
        session.limit = args.limit
        task = session.start_run("screenshot")
        assert task is not None
        await task
        print(f"run {session.state}: {session.results.done} answers", file=sys.stderr)
        session.set_filter(QuestionFilter("disagree"))
        visible = session.visible_indices()
        if visible:
            session.select_question(visible[min(2, len(visible) - 1)])
        window.context.variant.setCurrentIndex(window.context.variant.count() - 1)
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
