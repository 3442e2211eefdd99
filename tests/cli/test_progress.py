"""The progress line: what the pacing solver solves for more than a second is shown on stderr, and nothing else.

The stand-in solves below "take" their time on a clock of the test's own
(they move it forward), so no test sleeps or depends on the machine's speed.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from dialer.cli import progress
from dialer.core.solver import PacingSolver
from dialer.sim import scenario, simulate
from dialer.cli.common import print_simulation

STEP = 0.13976194237515868  # the lattice step of resolution 0.15


class Clock:
    """A clock the stand-in solves move forward."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def standin(clock: Clock, policy_seconds: float, plan_seconds: float = 0.0) -> PacingSolver:
    """A solver whose policy (Power) and day plan (always the limit) take the given seconds of `clock`."""

    class Flat:
        def rate(self, seconds_left: float, budget: float) -> float:
            return 0.05

    def solve(n: int, h: float, r: float, p: float, t: float) -> list[int]:
        clock.now += policy_seconds
        return [n - b for b in range(n + 1)]

    def plan(n: int, h: float, r: float, p: float, limit: float, hours: float) -> Flat:
        clock.now += plan_seconds
        return Flat()

    return PacingSolver(solve=solve, plan=plan)


def plain() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_a_slow_solve_is_shown_with_what_it_solved_and_how_long_it_took():
    clock = Clock()
    solver = standin(clock, policy_seconds=3.0, plan_seconds=2.5)
    console, out = plain()
    with progress.watching(console, solver=solver, clock=clock, tick=None, note="kept for the next run",
                            live=False):
        solver.policy((100, -10, -16, 2), STEP)
        solver.day_plan((100, -10, -16, 0.05, 720), STEP)
    assert out.getvalue().splitlines() == [
        "solved a pacing policy for 100 agents at 2 % abandons in 3.0 s",
        "solved the day plan for 100 agents (12 h of calling) in 2.5 s",
        "solved 1 policy and 1 day plan in 5.5 s (kept for the next run)",
    ]
    assert solver.on_solve is None  # the hook is the command's for its work only


def test_fast_solves_show_nothing():
    clock = Clock()
    solver = standin(clock, policy_seconds=0.01, plan_seconds=0.2)
    console, out = plain()
    with progress.watching(console, solver=solver, clock=clock, tick=None, live=False):
        for k in range(1, 6):
            solver.policy((20, -10, -16, k), STEP)
        solver.day_plan((20, -10, -16, 0.05, 720), STEP)
    assert out.getvalue() == ""


def test_many_short_solves_that_add_up_to_a_second_are_shown_once():
    """The first decisions of a cold run: no solve takes a second, together they do."""
    clock = Clock()
    solver = standin(clock, policy_seconds=0.3)
    console, out = plain()
    with progress.watching(console, solver=solver, clock=clock, tick=None, note="", live=False):
        for k in range(1, 9):
            solver.policy((20, -10, -16, k), STEP)
        solver.policy((20, -10, -16, 1), STEP)  # found, not solved: not counted
    assert out.getvalue().splitlines() == [
        "solving the Predictive pacer's policies and day plans …",
        "solved 8 policies in 2.4 s",
    ]


def test_a_long_solve_is_announced_while_it_runs():
    """The background look: a solve running for over a second is named before it ends."""
    clock = Clock()
    console, out = plain()
    shown = progress.Progress(console, clock=clock, tick=None, live=False)
    with shown("plan", (50, -10, -16, 0.05, 480, STEP)):
        clock.now += 1.5
        shown._look()  # what the background thread does every `tick` seconds
        assert out.getvalue() == "solving the day plan for 50 agents (8 h of calling) …\n"
        clock.now += 1.0
    shown.close()
    assert out.getvalue().splitlines()[1:] == [
        "solved the day plan for 50 agents (8 h of calling) in 2.5 s",
        "solved 1 day plan in 2.5 s",
    ]


def test_on_a_terminal_the_line_is_live_and_ends_with_what_was_solved():
    clock = Clock()
    solver = standin(clock, policy_seconds=1.5)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    with progress.watching(console, solver=solver, clock=clock, tick=None, note=""):
        solver.policy((100, -10, -16, 2), STEP)
    text = Text.from_ansi(out.getvalue()).plain
    assert "solved a pacing policy for 100 agents at 2 % abandons in 1.5 s" in text
    assert "solved 1 policy, 1.5 s" in text  # the live line, drawn then cleared
    assert text.rstrip().endswith("solved 1 policy in 1.5 s")


def test_steps_of_a_command_are_shown_as_solves_are():
    clock = Clock()
    console, out = plain()
    with progress.watching(console, solver=PacingSolver(), clock=clock, tick=None, live=False) as shown:
        with shown.step("computing the best day of campaign 'sales'", "computed the best day of campaign 'sales'"):
            clock.now += 4.0
        with shown.step("computing the bounds of campaign 'quick'"):
            clock.now += 0.1
    assert out.getvalue().splitlines() == ["computed the best day of campaign 'sales' in 4.0 s"]


def test_stdout_is_the_same_with_the_progress_shown(capsys):
    """A simulated day with a slow stand-in solver: the table on stdout is what it is without progress."""
    sc = scenario.default()
    clock = Clock()
    solver = standin(clock, policy_seconds=2.0, plan_seconds=3.0)
    quiet = simulate(sc, seed=0, solver=standin(Clock(), 0.0))
    print_simulation(quiet, Console(highlight=False, soft_wrap=False, width=160))
    before = capsys.readouterr()
    console, err = plain()
    with progress.watching(console, solver=solver, clock=clock, tick=None, live=False):
        shown = simulate(sc, seed=0, solver=solver)
    print_simulation(shown, Console(highlight=False, soft_wrap=False, width=160))
    after = capsys.readouterr()
    assert after.out == before.out and after.err == ""
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("solved ") and lines[-1].startswith("solved ")
    assert any("the day plan for 20 agents" in line for line in lines)
    assert shown.to_json() == quiet.to_json()


def test_a_pipe_or_a_file_shows_nothing_unless_asked():
    """As the project's progress bars: in a pipe, a file or a test's capture, the command's stderr stays
    only its errors (the default); plain lines are for whoever asks for them (the tests above)."""
    clock = Clock()
    solver = standin(clock, policy_seconds=5.0)
    console, out = plain()
    with progress.watching(console, solver=solver, clock=clock, tick=None):
        solver.policy((100, -10, -16, 2), STEP)
    assert out.getvalue() == ""


def test_a_step_can_say_how_far_it_has_gone():
    """`dialer theory` renames its running step as a ratio's days come in: the look shows the new name."""
    clock = Clock()
    console, out = plain()
    with progress.watching(console, solver=PacingSolver(), clock=clock, tick=None, live=False) as shown:
        with shown.step("simulating ratio 3.2 on up to 60 runs", "simulated ratio 3.2") as say:
            clock.now += 0.5
            say("simulating ratio 3.2: 30 of 60 runs, no day over the limit yet")
            clock.now += 1.0
            shown._look()
            clock.now += 1.0
    assert out.getvalue().splitlines() == [
        "simulating ratio 3.2: 30 of 60 runs, no day over the limit yet …",
        "simulated ratio 3.2 in 2.5 s",
    ]
