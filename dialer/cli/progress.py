"""The command line's progress line: what takes more than a second, shown on stderr (rich), never silence.

Owns: `Progress`, which watches a command's long work: the pacing solver's
solves on the spot (it is the solver's `on_solve` hook) and any step a
command names (`step`). On a terminal a live line says what is being solved
and for how long, and a line is left for each piece that took over a
second; elsewhere (a pipe, a file, a test) nothing is shown, as the
project's other progress bars do, unless plain lines are asked for. Work
that ends within the second shows nothing. `watching()` is the context
manager a command runs its work in: it hooks the process's shared solver.
Must not know about: how anything is solved or simulated. Writes to stderr
only: stdout stays exactly what the command prints.

    with progress.watching() as shown:
        result = simulate(sc, seed=0)   # a cold start: "solving the day plan for 100 agents … 3.2 s"
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

#: seconds of work before anything is shown
AFTER = 1.0


def stderr() -> Console:
    """The console progress lines go to (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def describe(kind: str, key: tuple) -> str:
    """What a solve of the pacing solver is, in words ("the day plan for 100 agents (12 h of calling)")."""
    agents = key[0] if key else "?"
    who = f"{agents} agent" + ("" if agents == 1 else "s")
    if kind == "plan":
        minutes = key[4] if len(key) > 4 else None
        day = f" ({minutes / 60:g} h of calling)" if isinstance(minutes, (int, float)) else ""
        return f"the day plan for {who}{day}"
    target = key[3] if len(key) > 3 else None
    at = f" at {target} % abandons" if isinstance(target, int) else ""
    return f"a pacing policy for {who}{at}"


class Progress:
    """Shows on `console` the work that runs for more than `after` seconds; `close()` ends with one line
    saying what was solved and how long it took (if anything was shown).

    On a terminal: a live line ("solving the day plan for 100 agents … 3.2 s (solved 12 policies so
    far, 5.1 s)"), shown once the work of the command so far has taken `after` seconds. Elsewhere,
    plain lines: "solving X …" when one piece has run `after` seconds (or "solving the Predictive
    pacer's policies and day plans …" when many short ones have). Both: "solved X in 3.2 s" when a
    piece that took that long ends. `note` follows the last line ("kept in the cache …").
    `live`: None (default) for the live line on a terminal and nothing elsewhere; False for the
    plain lines wherever the console is; True for the live line wherever it is. `clock` and `tick`
    (seconds between looks from a background thread; None: no thread, so lines only when a piece
    ends) are for tests.
    """

    def __init__(self, console: Console, *, after: float = AFTER, note: str = "", live: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, tick: float | None = 0.2) -> None:
        self.console = console
        self.note = note
        self.after = after
        self.clock = clock
        self.tick = tick
        self.live = console.is_terminal if live is None else live
        self.silent = live is None and not console.is_terminal  # a pipe, a file, a test: show nothing
        self.counts = {"policy": 0, "plan": 0, "step": 0}
        self.seconds = 0.0  # spent in the pieces of work that ended
        self._current: tuple[str, float] | None = None  # what is running ("solving X", "estimating Y"), since when
        self._announced = False  # the running piece has been announced (plain lines)
        self.shown = False  # anything was shown
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: Any = None
        self._spinner: Any = None

    # --- what is watched --------------------------------------------------------------------------

    def __call__(self, kind: str, key: tuple) -> Any:
        """The `PacingSolver.on_solve` hook: the solve runs inside the context manager returned."""
        return self._watch(kind, f"solving {describe(kind, key)}", f"solved {describe(kind, key)}")

    def step(self, doing: str, done: str | None = None) -> Any:
        """A context manager for a named step ("estimating the best day …"), shown as a solve is. It gives
        a function that renames the step while it runs ("simulating ratio 3.2: 12 of 60 days")."""
        return self._watch("step", doing, done or doing)

    def _rename(self, doing: str) -> None:
        with self._lock:
            if self._current is not None:
                self._current = (doing, self._current[1])

    @contextmanager
    def _watch(self, kind: str, doing: str, done: str) -> Iterator[Callable[[str], None]]:
        start = self.clock()
        with self._lock:
            self._current, self._announced = (doing, start), False
        self._start_thread()
        try:
            yield self._rename
        finally:
            with self._lock:
                took = self.clock() - start
                self._current = None
                self.counts[kind] += 1
                self.seconds += took
                if took >= self.after:
                    self._print(f"{done} in {took:.1f} s")
                self._look()

    # --- showing ------------------------------------------------------------------------------

    def _start_thread(self) -> None:
        if self.tick is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="dialer-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            self._look()

    def _look(self) -> None:
        """Show what runs, once it (or all the work so far) has taken `after` seconds."""
        with self._lock:
            running = 0.0 if self._current is None else self.clock() - self._current[1]
            total = self.seconds + running
            if total < self.after:
                return
            if self.silent:
                return
            if self.live:
                self._show_live(running, total)
            elif self._current is not None and running >= self.after and not self._announced:
                self._announced = True
                self._print(f"{self._current[0]} …")
            elif not self.shown and self.counts["policy"] + self.counts["plan"]:
                self._print("solving the Predictive pacer's policies and day plans …")

    def _solved(self) -> str:
        words = []
        for kind, one, many in (("policy", "policy", "policies"), ("plan", "day plan", "day plans")):
            n = self.counts[kind]
            if n:
                words.append(f"{n} {one if n == 1 else many}")
        return ("solved " + " and ".join(words)) if words else ""

    def _show_live(self, running: float, total: float) -> None:
        solved = self._solved()
        if self._current is None:
            text = f"{solved or 'done'}, {total:.1f} s"
        else:
            text = f"{self._current[0]} … {running:.1f} s"
            if solved:
                text += f"  ({solved} so far, {total:.1f} s)"
        if self._status is None:
            self._spinner = Spinner("dots", Text(text, style="dim"))
            # stdout is left alone: what the command prints there stays exactly as it is
            self._status = Live(self._spinner, console=self.console, transient=True, refresh_per_second=8,
                                redirect_stdout=False, redirect_stderr=False)
            self._status.start()
            self.shown = True
        else:
            self._spinner.update(text=Text(text, style="dim"))

    def _print(self, line: str) -> None:
        if self.silent:
            return
        self.shown = True
        self.console.print(Text(line, style="dim"))

    def close(self) -> None:
        """Stop the live line and the thread; if anything was shown, say what was solved and how long it took."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._status is not None:
                self._status.stop()
                self._status = None
            solved = self._solved()
            if self.shown and solved:
                self._print(f"{solved} in {self.seconds:.1f} s" + (f" ({self.note})" if self.note else ""))


@contextmanager
def watching(console: Console | None = None, *, solver: Any = None, **options: Any) -> Iterator[Progress]:
    """Run a command's work with its progress shown: a `Progress` on stderr (or `console`) hooked on
    `solver` (default: the process's shared one) for the work's duration, closed after it."""
    from dialer import policy_cache
    from dialer.core.solver import shared

    solver = shared() if solver is None else solver
    if "note" not in options and solver.theory and policy_cache.location() is not None:
        options["note"] = f"kept in {policy_cache.location().parent}: the next run reads them"
    progress = Progress(stderr() if console is None else console, **options)
    before = solver.on_solve
    solver.on_solve = progress
    try:
        yield progress
    finally:
        solver.on_solve = before
        progress.close()
