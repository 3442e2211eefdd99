"""The `dialer` command.

Owns: argument parsing, printing tables, writing files, and turning every
`DialerError` into one line on stderr with a non-zero exit (never a traceback).
Must not know about: how anything is computed; it calls the library.

    dialer simulate [SCENARIO] [--seed N] [--json PATH] [--store URL]
    dialer theory [SCENARIO] [--json PATH]          (registered by dialer.theory_cli)
    dialer erlang b|c|a ...                          (registered by dialer.theory_cli)
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Callable, Sequence

from rich.console import Console
from rich.table import Table

from dialer.errors import ConfigError, DialerError

Arguments = Callable[[argparse.ArgumentParser], None]
Runner = Callable[[argparse.Namespace], int]

#: sub-command name -> (help, function adding its arguments, function running it)
_COMMANDS: dict[str, tuple[str, Arguments, Runner]] = {}


def command(name: str, help: str, arguments: Arguments | None = None) -> Callable[[Runner], Runner]:
    """Register a sub-command: decorate `run(args) -> exit code`; `arguments` adds its options."""

    def deco(run: Runner) -> Runner:
        _COMMANDS[name] = (help, arguments or (lambda p: None), run)
        return run

    return deco


def _console() -> Console:
    probe = Console()
    width = probe.width if probe.is_terminal else 160
    return Console(highlight=False, soft_wrap=False, width=max(width, 120))


def nonneg_int(text: str) -> int:
    """argparse type: a whole number >= 0 (argparse names the flag in front of the message)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text!r}")
    return v


def whole(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return v

    return parse


def fraction(text: str) -> float:
    """argparse type: '0.8' or '80%', strictly between 0 and 1."""
    t = text.strip()
    try:
        x = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        x = math.nan
    if not 0.0 < x < 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1) or a percentage such as 80%, got {text!r}")
    return x


def load_scenario(path: str | None):
    from dialer.sim import scenario

    return scenario.default() if path is None else scenario.load(path)


def write_text(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"--json {path!r} cannot be written: {err.strerror or err}") from None


# --- dialer simulate ------------------------------------------------------------------


def _simulate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--store",
        metavar="URL",
        help="also record the daily statistics (norm 4.3) in this statistics store "
        "(SQLite path or database URL), for 'dialer stats' and 'dialer audit'",
    )


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def print_simulation(result, console: Console) -> None:
    for c in result.campaigns:
        t = Table(title=f"{result.scenario} — campaign {c.name!r} ({c.mode}), seed {result.seed}")
        for col in (
            "date",
            "attempted",
            "answered",
            "connected",
            "transferred",
            "abandoned",
            "abandon rate",
            "utilization",
            "connects/agent-h",
            "idle s/call",
            "silence s",
        ):
            t.add_column(col, justify="left" if col == "date" else "right")
        rows = [(d.date.isoformat(), d.stats) for d in c.days] + [("total", c.totals)]
        for i, (label, s) in enumerate(rows):
            over = s.abandoned > c.abandon_limit * s.connected
            rate = _pct(s.abandon_rate) + (" OVER" if over else "")
            t.add_row(
                label,
                str(s.attempted),
                str(s.answered),
                str(s.connected),
                str(s.transferred),
                str(s.abandoned),
                rate,
                _pct(s.agent_utilization),
                f"{s.connects_per_agent_hour:.2f}",
                f"{s.mean_idle_between_calls:.1f}",
                f"{s.mean_abandon_silence:.2f}",
                end_section=(i == len(rows) - 2),
            )
        console.print(t)
        lv = c.leads
        console.print(
            f"  leads: {lv.total} in the list, {lv.dialled} dialled, {lv.transferred} reached an agent, "
            f"{lv.exhausted} finished without, {lv.pending_retry} waiting for a retry, "
            f"{lv.never_dialled} never dialled; abandon limit {_pct(c.abandon_limit)}, "
            f"days over it: {c.violation_days}"
        )


@command("simulate", "simulate a study and print per-day statistics (norm 4.3)", _simulate_args)
def run_simulate(args: argparse.Namespace) -> int:
    from dialer.sim import simulate

    sc = load_scenario(args.scenario)
    store = None
    if args.store:
        from dialer.compliance.store import COUNTS, Store

        store = Store(args.store)  # opened first: a bad URL fails before a long run
    result = simulate(sc, seed=args.seed)
    print_simulation(result, _console())
    if args.json:
        write_text(args.json, result.to_json())
    if store is not None:
        with store:
            n = 0
            for c in result.campaigns:
                for d in c.days:
                    # every count but written complaints, which the store keeps as recorded
                    counts = {k: getattr(d.stats, k) for k in COUNTS if k != "complaints"}
                    store.put_day(c.name, d.date, counts)
                    n += 1
        _console().print(f"  recorded {n} campaign-day(s) in {store.shown}")
    return 0


import dialer.theory_cli  # noqa: E402,F401  registers 'theory' and 'erlang'
import dialer.plan.cli  # noqa: E402,F401  registers 'study', 'staff', 'report', 'fit', 'calls'
import dialer.compliance.cli  # noqa: E402,F401  registers 'hours', 'dnc', 'stats', 'audit'
import dialer.live.cli  # noqa: E402,F401  registers 'serve' and 'emulate'


# --- entry point ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, like every other error of the command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"dialer: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dialer", description="Predictive-dialer pacing controller and simulator.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help, add_args, run) in _COMMANDS.items():
        text = help.replace("%", "%%")  # argparse formats help strings with %
        p = sub.add_parser(name, help=text, description=text)
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


if __name__ == "__main__":  # pragma: no cover
    # `python -m dialer.cli` runs this file as __main__, a second copy of the module; the
    # commands registered themselves in the importable `dialer.cli`, so run that one's main
    from dialer.cli import main as _main

    sys.exit(_main())
