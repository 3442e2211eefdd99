"""The do-not-call registers a live service screens against: the store's, kept current.

Owns: `RegisterView`, the internal and national registers of a store (the
compliance tables beside the journal: `dialer.compliance.store`) as the
rules' sans-IO `Registers`, read at start and again, before a campaign
screens, whenever the store says they changed (`dialer dnc block` or
`dialer dnc import` by another process: the next decision sees it), and
when each register was last imported (the national register's age).
Must not know about: HTTP, campaigns, how a rule is decided (`dialer.rules.dnc`).

    view = RegisterView(store.url, Hasher(secret))
    view.current().check(Lead(Person(number=view.hasher.number("+4791234567"))), at)
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any


from dialer.compliance import store as records
from dialer.compliance.registers import entry_of
from dialer.rules.dnc import Hasher, Registers

_VERSION = "SELECT key, value FROM meta WHERE key IN ('registers_version', 'registers_epoch')"


class RegisterView:
    """A store's registers, refreshed when the store's registers version moves (`current`)."""

    def __init__(self, url: str, hasher: Hasher) -> None:
        self.hasher = hasher
        self.store = records.Store(url)  # the live store created the tables; an older store gets its columns
        self.store.check_key(hasher.fingerprint)  # the registers were hashed with the same secret
        self._lock = threading.Lock()
        self._conn: Any = None  # a connection of its own for the version: a read of one small row
        self._seen: tuple[int, int] | None = None
        self._registers = Registers()
        self._last_id = 0
        self._imports: dict[str, dt.datetime] = {}
        self.current()

    def _version(self) -> tuple[int, int]:
        for attempt in (0, 1):
            try:
                if self._conn is None:
                    self._conn = self.store.engine.raw_connection()
                cur = self._conn.cursor()
                try:
                    cur.execute(_VERSION)
                    got = dict(cur.fetchall())
                finally:
                    cur.close()
                self._conn.rollback()  # no transaction stays open (it would hold an old snapshot)
                return int(got.get("registers_version", 0)), int(got.get("registers_epoch", 0))
            except Exception:
                conn, self._conn = self._conn, None
                if conn is not None:
                    try:
                        conn.invalidate()
                    except Exception:
                        pass
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def current(self) -> Registers:
        """The registers as the store holds them now: what was added since the last look is read (all of
        them again when entries ended, as a national extract replaced)."""
        with self._lock:
            seen = self._version()
            if seen != self._seen:
                if self._seen is None or seen[1] != self._seen[1]:
                    self._registers, self._last_id = Registers(), 0
                for e in self.store.entries(after=self._last_id):
                    self._registers.add(entry_of(e))
                    self._last_id = max(self._last_id, e.id or 0)
                self._imports = {}
                for register in ("national", "internal"):
                    done = self.store.imports(register)
                    if done:
                        self._imports[register] = done[-1]
                self._seen = seen
            return self._registers

    def last_import(self, register: str = "national") -> dt.datetime | None:
        """When `register` was last imported (as of the last `current`), None if never."""
        return self._imports.get(register)

    def entries(self) -> int:
        return len(self._registers)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:
                    pass
                self._conn = None
        self.store.close()


__all__ = ["RegisterView"]
