"""Questions asked before what cannot be taken back quickly: quitting mid-run, long or costly work.

Each asks with a window-modal box that does not block the event loop (the run goes on while the
question is open) and calls back with the user's answer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.core.runs.progress import format_duration
from workbench.ui.session import AppSession

QUIT_TITLE = "Quit workbench?"
PAUSE_AND_QUIT = "Pause and quit"
KEEP_RUNNING = "Keep running"
COSTLY_TITLE = "Start long or costly work?"
START_ANYWAY = "Start"
LONG_WORK_S = 30 * 60  # past this estimated time, or
COSTLY_WORK_USD = 5.0  # this estimated price, a start is confirmed first


def ask(parent: QWidget, title: str, text: str, yes: str, no: str, answered: Callable[[bool], None]) -> QMessageBox:
    """A question with two named buttons; ``answered(True)`` for ``yes``. Escape and closing mean ``no``."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no_button)
    box.setEscapeButton(no_button)
    box.finished.connect(lambda _: answered(box.clickedButton() is yes_button))
    box.open()
    return box


def confirm_quit_mid_run(parent: QWidget, session: AppSession, quit_now: Callable[[], None]) -> QMessageBox:
    """Quitting while a run is live: pause it and quit (it stays resumable), or keep it running."""
    meter, run = session.meter, session.run_info
    name = f"Run {run.name!r}" if run else "A run"
    text = (f"{name} is {session.state}: {meter.done} of {meter.total} answers are in.\n\n"
            f"{PAUSE_AND_QUIT} stops sending, keeps every answer, and offers Resume the next time "
            "workbench starts; only what is missing is asked for then.")  # fmt: skip

    def answered(yes: bool) -> None:
        if yes:
            if session.running and not session.paused:
                session.pause()
            quit_now()

    return ask(parent, QUIT_TITLE, text, PAUSE_AND_QUIT, KEEP_RUNNING, answered)


def needs_confirmation(seconds: float | None, dollars: float | None) -> bool:
    return (seconds or 0) > LONG_WORK_S or (dollars or 0) > COSTLY_WORK_USD


def describe_cost(seconds: float | None, dollars: float | None) -> str:
    parts = []
    if seconds is not None:
        parts.append(f"about {format_duration(seconds)}")
    if dollars is not None:
        parts.append(f"about ${dollars:,.2f}")
    return " and ".join(parts) or "an unknown time and price"


def confirm_costly_start(
    parent: QWidget, what: str, seconds: float | None, dollars: float | None, start: Callable[[], None]
) -> QMessageBox | None:
    """Start at once when the estimate is small; otherwise ask first, showing the time and the money."""
    if not needs_confirmation(seconds, dollars):
        start()
        return None
    text = (f"{what} is estimated to take {describe_cost(seconds, dollars)} (an estimate: the real figure "
            "is known only once it runs).\n\nStart it now?")  # fmt: skip
    return ask(parent, COSTLY_TITLE, text, START_ANYWAY, "Not now", lambda yes: start() if yes else None)
