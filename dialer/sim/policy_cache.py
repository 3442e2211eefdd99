"""A disk cache of the Predictive pacer's solved policies, shared across runs and processes.

Owns: the cache file (JSON, in the user's cache directory) and moving
policies between it and the process cache of `dialer.core.predictive`.
Must not know about: how policies are solved or used; what a run decides.

A policy is a pure function of its lattice point and of the solver's code,
so this cache changes how long a run takes, never what it decides (a core
test checks that decisions never depend on what a cache holds). The file
name carries a hash of the solver's sources (dialer/theory/optimal.py and
dialer/core/predictive.py): any change to either starts a new file.

Location: ``$DIALER_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/dialer`` or
``~/.cache/dialer``. ``DIALER_CACHE_DIR=off`` turns the cache off. A file
that cannot be read or written is ignored (the run solves what it needs);
writes go to a temporary file renamed into place, so concurrent runs never
see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

from dialer.core import predictive

_loaded: set[Path] = set()
_on_disk: dict[Path, set[tuple]] = {}  # per file: the keys this process read from it or wrote to it


@cache
def _fingerprint() -> str:
    import dialer.theory.optimal as optimal

    h = hashlib.sha256()
    for mod in (optimal, predictive):
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


def _read(path: Path) -> dict[tuple, tuple[int, ...]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {tuple(k): tuple(v) for k, v in rows}
    except (OSError, ValueError, TypeError):
        return {}


def load() -> int:
    """Add the cached policies to the process cache (once per process); returns how many were new."""
    path = location()
    if path is None or path in _loaded:
        return 0
    _loaded.add(path)
    found = _read(path)
    _on_disk.setdefault(path, set()).update(found)
    return predictive.add_policies(found)


def save() -> int:
    """Merge the process cache into the file; returns the number of policies known to be in it.

    Nothing is read or written when every policy of the process is already
    known to be in the file (the common case: a run that solved nothing new).
    """
    path = location()
    if path is None:
        return 0
    mine = predictive.cached_policies()
    if not mine:
        return 0
    known = _on_disk.setdefault(path, set())
    if known.issuperset(mine):
        return len(known)
    on_disk = _read(path)
    known.update(on_disk)
    if known.issuperset(mine):
        return len(known)
    merged = {**on_disk, **mine}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".policies-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([[list(k), list(v)] for k, v in merged.items()], fh)
        os.replace(tmp, path)
    except OSError:
        return len(known)
    known.update(merged)
    return len(known)
