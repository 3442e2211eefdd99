"""The `dialer` command: one sub-command module per group, and the entry point.

Owns: building the parser from the command modules' `COMMANDS` and turning
every `DialerError` into one line on stderr with exit code 2 (never a
traceback). The modules: `simulate`; `theory` (theory, erlang); `plan`
(study, staff, report, calls, fit); `compliance` (hours, dnc, stats,
audit); `live` (serve, emulate); `common` (what they share).
Must not know about: how anything is computed; it calls the library. No
library module imports this package.

    dialer simulate [SCENARIO] [--seed N] [--json PATH] [--store URL]
    python -m dialer.cli theory --json theory.json
    dialer --version
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from dialer._version import __version__
from dialer.cli import common, compliance, live, plan, simulate, theory
from dialer.errors import DialerError

#: the command modules, in the order `dialer --help` lists their commands
MODULES = (simulate, theory, plan, compliance, live)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, like every other error of the command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"dialer: error: {message}\n")


def commands() -> tuple[common.Command, ...]:
    """Every sub-command, in the order of `MODULES`."""
    return tuple(c for m in MODULES for c in m.COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dialer", description="Predictive-dialer pacing controller and simulator.")
    parser.add_argument("--version", action="version", version=f"dialer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, help, add_args, run in commands():
        # argparse formats a help string with % (so "95 %" is written "95 %%"), never a description
        p = sub.add_parser(name, help=help.replace("%", "%%"), description=help)
        if add_args is not None:
            add_args(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except DialerError as err:
        print(f"dialer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dialer: interrupted", file=sys.stderr)
        return 130
