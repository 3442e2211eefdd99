"""A live campaign's state as bytes at a journal position: what a restore starts from instead of entry 1.

Owns: `FORMAT` (the one snapshot format this build writes and reads), `dumps` and `loads`, and
`SnapshotError`. A snapshot is a pickle of the state `LiveCampaign.snapshot` hands over (its
controller: floor, ledger, pacer and its estimates, redial guard; its timeline, event ids,
flags); collaborators are written as names and given back by the reader (`refs`: the accounting
day's function, the number key, the memory of abandoned numbers), so a snapshot holds no solver,
no policy cache, no other campaign's numbers and no key. A call in flight keeps its lead and
phone as the journal does (their keyed hashes), never in clear; a `Hasher` or a number key met
anywhere else refuses the write.
Trust boundary: a snapshot is read only from the service's own store, which it wrote (whoever can
write that store can already change every decision through the journal); even so `loads` imports
only the project's own classes and functions and a few plain containers, nothing else.
Must not know about: databases, HTTP, clocks.

    blob = dumps(state, refs={"numbers": memory}, key=number_key)
    state = loads(blob, refs={"numbers": AbandonedNumbers()})
"""

from __future__ import annotations

import io
import pickle
import types
from typing import Any, Callable, Hashable, Mapping

from dialer.errors import DialerError

#: the snapshot format this build writes and reads: a new number whenever the pickled state of any
#: class in it changes shape (a snapshot of another number is never half-read: `dialer.live.service`;
#: tests/live/test_snapshot_shape.py fails when a class's attributes change under the same number)
FORMAT = 2

#: the containers besides the project's own classes a snapshot may hold
_PLAIN = {
    "builtins": {"set", "frozenset", "dict", "list", "tuple", "bytearray", "complex", "float", "int", "str", "object"},
    "collections": {"deque", "OrderedDict"},
    "fractions": {"Fraction"},
    "copyreg": {"_reconstructor"},
    "datetime": {"date", "datetime", "timedelta", "timezone"},
    "zoneinfo": {"ZoneInfo"},
    "enum": {"Enum"},
}


class SnapshotError(DialerError):
    """A snapshot could not be written or read (its state did not fit the format)."""


def dumps(state: Any, refs: Mapping[str, Any], key: Callable[[Hashable], Hashable] | None = None) -> bytes:
    """`state` as bytes; each object of `refs` written as its name (given back to `loads`). `key`: the
    journal's number key, which a call in flight's lead and phone are written as (None: as they are)."""
    plain = [k for k, v in refs.items() if isinstance(v, _UNNAMED)]
    if plain:  # the pickler writes these by value without asking (`_Pickler`): they cannot be named
        raise SnapshotError(f"a snapshot's collaborators must be objects, not plain values: {', '.join(plain)}")
    buf = io.BytesIO()
    p = _Pickler(buf, {id(v): k for k, v in refs.items() if v is not None}, key)
    try:
        p.dump(state)
    except (pickle.PicklingError, TypeError, AttributeError) as err:
        raise SnapshotError(f"the campaign's state cannot be written as a snapshot: {err}") from None
    return buf.getvalue()


def loads(blob: bytes, refs: Mapping[str, Any]) -> Any:
    """The state `dumps` wrote, its named collaborators taken from `refs`. SnapshotError if it cannot be read."""
    try:
        return _Unpickler(io.BytesIO(blob), refs).load()
    except SnapshotError:
        raise
    except Exception as err:  # a class renamed, a field gone: the snapshot is unreadable, never half-read
        raise SnapshotError(f"the snapshot cannot be read: {type(err).__name__}: {err}") from None


def _call(fields: tuple[Any, ...]) -> Any:
    """A floor's call in flight back from its fields (`_Pickler.reducer_override`)."""
    from dialer.core.floor import _Call

    c = _Call.__new__(_Call)
    for name, value in zip(_Call.__slots__, fields):
        setattr(c, name, value)
    return c


def _generator(kind: str, state: dict[str, Any]) -> Any:
    """A `numpy.random.Generator` back from its bit generator's name and state (`_Pickler.reducer_override`)."""
    import numpy as np

    if kind not in _BIT_GENERATORS:
        raise SnapshotError(f"a snapshot's random generator must be one of {', '.join(_BIT_GENERATORS)}, got {kind!r}")
    bits = getattr(np.random, kind)()
    bits.state = state
    return np.random.Generator(bits)


#: what a pickler writes without asking `reducer_override`, so never by name
_UNNAMED = (bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset)

#: the bit generators whose state is plain data (numbers and names), as a snapshot keeps a Generator
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "SFC64")


def _ref(name: str) -> Any:
    """A named collaborator: never called, `_Unpickler.find_class` puts the reader's own lookup in its place."""
    raise SnapshotError(f"a snapshot's collaborator {name!r} is given by the reader (dialer.live.snapshot.loads)")


class _Pickler(pickle.Pickler):
    # Collaborators are written as `_ref(name)` by `reducer_override`, which the pickler asks only for
    # objects that are not plain str, int, float, list, dict, tuple...: a `persistent_id` would be asked
    # for every object, the remembered event ids included (hundreds of thousands of Python calls).

    def __init__(self, file: Any, names: dict[int, str], key: Callable[[Hashable], Hashable] | None) -> None:
        super().__init__(file, protocol=5)
        self._names = names
        self._key = key
        from dialer.core.floor import _Call
        from dialer.rules.dnc import Hasher
        from dialer.rules.phone import NumberKey

        self._call_type = _Call
        self._secret_types = (Hasher, NumberKey)

    def reducer_override(self, obj: Any) -> Any:
        name = self._names.get(id(obj))
        if name is not None:
            return _ref, (name,)
        if isinstance(obj, self._secret_types):
            raise SnapshotError(f"a snapshot never holds a number key or a hasher ({type(obj).__name__})")
        if type(obj) is self._call_type and self._key is not None:
            key = self._key
            fields = tuple(
                (key(v) if isinstance(v, str) else v) if name in ("lead", "number") else v
                for name, v in ((n, getattr(obj, n)) for n in obj.__slots__))
            return _call, (fields,)
        if type(obj).__name__ == "Generator" and type(obj).__module__.startswith("numpy.random"):
            # a pacer's random draws (Poisson): its bit generator's state, plain data, not numpy's own pickle
            kind = type(obj.bit_generator).__name__
            if kind not in _BIT_GENERATORS:
                raise SnapshotError(f"a snapshot keeps a random generator of {', '.join(_BIT_GENERATORS)}, not {kind}")
            return _generator, (kind, obj.bit_generator.state)
        if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinMethodType)) \
                and self._names.get(id(obj)) is None and not _own(obj):
            raise SnapshotError(f"a snapshot holds no function but the project's own (found {obj!r})")
        return NotImplemented


def _own(obj: Any) -> bool:
    """A module-level function of the project (written by name, found again by `_Unpickler`)."""
    return (isinstance(obj, types.FunctionType) and (obj.__module__ or "").startswith("dialer.")
            and "<locals>" not in obj.__qualname__)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, refs: Mapping[str, Any]) -> None:
        super().__init__(file)
        self._refs = refs

    def _ref(self, name: Any) -> Any:
        try:
            return self._refs[name]
        except (KeyError, TypeError):
            raise SnapshotError(f"the snapshot names a collaborator this restore does not give: {name!r}") from None

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_ref":
            return self._ref
        if name in _PLAIN.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("dialer.") and not name.startswith("__"):
            obj = super().find_class(module, name)
            defined = getattr(obj if isinstance(obj, (type, types.FunctionType)) else type(obj), "__module__", "")
            if (defined or "").startswith("dialer.") and not isinstance(obj, types.ModuleType):
                return obj  # a class, function or constant object (a sentinel) of the project's own
        raise SnapshotError(f"a snapshot holds only the project's own classes, got {module}.{name}")
