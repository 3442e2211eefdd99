"""What the command modules share: the command record, the console, argument types, files.

Owns: `Command` (name, help, the function adding its arguments, the
function running it), `console()`, the argparse types every command uses
(each message names what was expected and what was given; argparse puts
the flag in front), `load_scenario`, `write_text`, and `print_simulation`
(the norm 4.3 table of a simulated or emulated study).
Must not know about: any one command. Nothing in the library imports this
package; it imports the library.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Callable, NamedTuple

from rich.console import Console
from rich.table import Table

from dialer.checks import REFUSED, Constraint, Whole
from dialer.errors import ConfigError
from dialer.units import pct

Arguments = Callable[[argparse.ArgumentParser], None]
Runner = Callable[[argparse.Namespace], int]


class Command(NamedTuple):
    """One sub-command: `dialer NAME`, its help line, what adds its arguments (or None) and what runs it."""

    name: str
    help: str
    arguments: Arguments | None
    run: Runner


def console() -> Console:
    probe = Console()
    width = probe.width if probe.is_terminal else 160
    return Console(highlight=False, soft_wrap=False, width=max(width, 120))


def typed(constraint: Constraint, parse: Callable[[str], Any] = float) -> Callable[[str], Any]:
    """argparse type: the text read by `parse` (float), then checked by `constraint` (`dialer.checks`).

    A refusal reads "must be {requirement}, got {text!r}"; argparse names the flag in front of it.
    """

    def typed_argument(text: str) -> Any:
        try:
            value = constraint.convert(parse(text))
        except ValueError:
            value = REFUSED
        if value is REFUSED:
            raise argparse.ArgumentTypeError(f"must be {constraint}, got {text!r}")
        return value

    return typed_argument


def whole(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= minimum."""
    return typed(Whole(minimum), int)


#: argparse type: a whole number >= 0
nonneg_int = whole(0)


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
            rate = pct(s.abandon_rate) + (" OVER" if over else "")
            t.add_row(
                label,
                str(s.attempted),
                str(s.answered),
                str(s.connected),
                str(s.transferred),
                str(s.abandoned),
                rate,
                pct(s.agent_utilization),
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
            f"{lv.never_dialled} never dialled; abandon limit {pct(c.abandon_limit)}, "
            f"days over it: {c.violation_days}"
        )
