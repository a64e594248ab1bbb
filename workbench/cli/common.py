"""What every subcommand shares."""

from __future__ import annotations

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: printed as one clear line, exit status 2."""
