"""`workbench` (and `python -m workbench`): the desktop app with no arguments, the CLI otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from workbench.ui.app import main as gui

        return gui()
    from workbench.cli import main as cli

    return cli(args)


if __name__ == "__main__":
    sys.exit(main())
