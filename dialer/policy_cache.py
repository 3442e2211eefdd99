"""A disk cache of the Predictive pacer's solved policies and day plans, shared across runs and processes.

Owns: the cache files (JSON, in the user's cache directory) and moving
policies and day plans between them and a `dialer.core.solver.PacingSolver`
(by default the process's shared one; only a solver of the theory's own
functions is loaded or saved). The files are named by a hash of the
solver's sources, so changed code starts new files.
Must not know about: how policies and plans are solved or used; what a run
decides (the cache changes how long a run takes, never what it decides).

    policy_cache.load(solver)   # before a run: what earlier runs solved
    ...                         # simulate, or serve
    policy_cache.save(solver)   # after: merge the solver's solves into the files

Location: ``$DIALER_CACHE_DIR``, else ``$XDG_CACHE_HOME/dialer`` or
``~/.cache/dialer``; ``DIALER_CACHE_DIR=off`` turns it off. Why it is safe
(pure functions, atomic writes, unreadable files ignored): docs/design.md,
"Where the state lives".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import weakref
import zlib
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dialer.core import predictive, solver as solver_module
from dialer.core.solver import PacingSolver, shared
from dialer.theory import DayPlan

_loaded: weakref.WeakKeyDictionary[PacingSolver, set[Path]] = weakref.WeakKeyDictionary()  # files read into a solver
_on_disk: dict[Path, set[tuple]] = {}  # per file: the keys this process read from it or wrote to it


@cache
def _fingerprint() -> str:
    import dialer.theory.envelope as envelope
    import dialer.theory.optimal as optimal

    h = hashlib.sha256()
    for mod in (optimal, envelope, solver_module, predictive):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


def location() -> Path | None:
    """The cache file of this solver code, or None when the cache is off."""
    base = os.environ.get("DIALER_CACHE_DIR")
    if base is not None and base.strip().lower() in ("off", "0", "none", ""):
        return None
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = str(Path(xdg) / "dialer") if xdg else str(Path.home() / ".cache" / "dialer")
    return Path(base) / f"policies-{_fingerprint()}.json"


def plans_location() -> Path | None:
    """The day plans' cache file of this solver code (beside the policies'), or None when the cache is off."""
    path = location()
    return None if path is None else path.with_name("plans-" + path.name.removeprefix("policies-"))


def _read(path: Path) -> dict[tuple, tuple[int, ...]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {tuple(k): tuple(v) for k, v in rows}
    except (OSError, ValueError, TypeError):
        return {}


def _plan_row(key: tuple, plan: DayPlan) -> list:
    """A day plan as a JSON row: its key, its floor, and its table of rates (compressed)."""
    floor = [plan.agents, plan.handle_time, plan.ring_time, plan.live_prob, plan.abandon_limit, plan.hours]
    table = base64.b64encode(zlib.compress(plan.choice.astype(np.uint8).tobytes(), 9)).decode("ascii")
    return [list(key), floor, plan.step, plan.budget_step, list(plan.rates), list(plan.choice.shape), table]


def _plan_of(row: Any) -> tuple[tuple, DayPlan] | None:
    """The key and the day plan of a JSON row, or None for a row that cannot be read."""
    try:
        key, floor, step, budget_step, rates, shape, table = row
        choice = np.frombuffer(zlib.decompress(base64.b64decode(table)), dtype=np.uint8)
        choice = choice.reshape(tuple(int(x) for x in shape)).astype(np.int16)
        if choice.size == 0 or int(choice.max()) >= len(rates) or not (step > 0 and budget_step > 0):
            return None
        empty = np.zeros((0, 0))
        agents, handle, ring, live, limit, hours = floor
        return tuple(key), DayPlan(int(agents), float(handle), float(ring), float(live), float(limit), float(hours),
                                   float(step), float(budget_step), tuple(float(r) for r in rates), choice,
                                   np.zeros(0, dtype=np.int64), empty, empty, empty)
    except (ValueError, TypeError, zlib.error):
        return None


def _plan_rows(path: Path) -> dict[tuple, tuple[list, DayPlan]]:
    """The readable rows of a plans file, by key, with their plans; an unreadable file has none."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for row in rows if isinstance(rows, list) else ():
        got = _plan_of(row)
        if got is not None:
            out[got[0]] = (row, got[1])
    return out


def _read_plans(path: Path) -> dict[tuple, DayPlan]:
    """The day plans of a file; an unreadable file or row is skipped (the run solves what it needs)."""
    return {k: plan for k, (_, plan) in _plan_rows(path).items()}


def load(solver: PacingSolver | None = None) -> int:
    """Add the cached policies and day plans to `solver` (default: the shared one), once per process
    and solver; returns how many were new. A solver that is not the theory's is left alone."""
    solver = shared() if solver is None else solver
    if not solver.theory:
        return 0
    new = 0
    for path, read, add in ((location(), _read, solver.add_policies),
                            (plans_location(), _read_plans, solver.add_plans)):
        done = _loaded.setdefault(solver, set())
        if path is None or path in done:
            continue
        done.add(path)
        found = read(path)
        _on_disk.setdefault(path, set()).update(found)
        new += add(found)  # type: ignore[operator]
    return new


def save(solver: PacingSolver | None = None) -> int:
    """Merge `solver`'s policies and plans (default: the shared one's) into the files; returns the
    number of policies known to be in theirs.

    Nothing is read or written when every policy (plan) of the solver is
    already known to be in the file (the common case: a run that solved
    nothing new); only the entries written are encoded. A solver that is not
    the theory's is never saved.
    """
    solver = shared() if solver is None else solver
    if not solver.theory:
        return 0
    # theory's plans only, whose rate indices fit the byte each is kept in
    plans = {k: v for k, v in solver.plans().items() if isinstance(v, DayPlan) and len(v.rates) <= 256}
    _merge(plans_location(), plans, lambda path: {k: row for k, (row, _) in _plan_rows(path).items()}, _plan_row)
    return _merge(location(), solver.policies(),
                  lambda path: {k: [list(k), list(v)] for k, v in _read(path).items()},
                  lambda k, v: [list(k), list(v)])


def _merge(path: Path | None, mine: dict, rows_of: Callable[[Path], dict], row: Callable[[tuple, Any], list]) -> int:
    """Add `mine` to the file at `path` (its rows by key, `row` encodes one entry); returns the entries known in it."""
    if path is None or not mine:
        return 0
    known = _on_disk.setdefault(path, set())
    if known.issuperset(mine):
        return len(known)
    on_disk = rows_of(path)
    known.update(on_disk)
    if known.issuperset(mine):
        return len(known)
    merged = {**on_disk, **{k: row(k, v) for k, v in mine.items() if k not in on_disk}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name.split('-')[0]}-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(list(merged.values()), fh)
        os.replace(tmp, path)
    except OSError:
        return len(known)
    known.update(merged)
    return len(known)
