"""A worker process for work that must not hold the service's interpreter: calls in, results out, over pipes.

Owns: `Worker` (the parent's side: `submit(fn, *args) -> Future`, a reader
thread, a new process if the old one died) and `serve` (the child's loop,
`python -m dialer.live.worker`). A call is a module-level function and its
arguments, pickled; the child imports the function's module, never the
parent's `__main__` (which `multiprocessing`'s spawn would run again in an
integrator's script without a main guard).
Must not know about: what the calls do (`dialer.live.warmer` sends solves).

    w = Worker()
    w.submit(math.factorial, 20).result()   # 2432902008176640000, computed in the child
    w.close()
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO, Callable

_LEN = struct.Struct("!Q")


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    size = _LEN.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class WorkerDied(RuntimeError):
    """The worker process ended before it answered."""


class Worker:
    """One child process that runs calls one after another, in the order submitted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the bookkeeping; never held across a pipe's read or write
        self._sending = threading.Lock()  # one call written at a time
        self._proc: subprocess.Popen | None = None
        self._waiting: dict[int, Future] = {}
        self._n = 0
        self._closed = False

    def _start(self) -> subprocess.Popen:
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding this `dialer`
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([package_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        proc = subprocess.Popen([sys.executable, "-m", "dialer.live.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env)
        threading.Thread(target=self._read, args=(proc,), name="dialer-worker-reader", daemon=True).start()
        return proc

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run `fn(*args)` in the child; the future gets its result, or its exception, or `WorkerDied`."""
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker is closed")
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            self._n += 1
            n = self._n
            self._waiting[n] = fut
            proc = self._proc
        # the write outside the lock: it waits while the child writes a reply that the reader, which
        # needs the lock to hand it over, must take first (a write under the lock waited for ever)
        try:
            with self._sending:
                _send(proc.stdin, (n, fn, args))  # type: ignore[arg-type]
        except (OSError, ValueError):
            with self._lock:
                lost = self._waiting.pop(n, None)
            if lost is not None:  # (else the reader already failed it, the child having ended)
                fut.set_exception(WorkerDied("the worker process is gone"))
        return fut

    def _read(self, proc: subprocess.Popen) -> None:
        while True:
            try:
                n, ok, value = _receive(proc.stdout)  # type: ignore[arg-type]
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            with self._lock:
                fut = self._waiting.pop(n, None)
            if fut is not None:
                fut.set_result(value) if ok else fut.set_exception(value)
        with self._lock:  # the child ended: every call still waiting on it failed
            if self._proc is proc:
                self._proc = None
            lost = [f for f in self._waiting.values()]
            self._waiting.clear()
        for fut in lost:
            fut.set_exception(WorkerDied("the worker process ended before it answered"))

    def close(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Stop the child: after it finished what it was sent (`wait`), or at once (what it held is lost)."""
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is None:
            return
        try:
            if wait:
                with self._sending:  # after the call being written
                    proc.stdin.close()  # type: ignore[union-attr]
                proc.wait(timeout=timeout)
            else:
                proc.kill()
                proc.wait()
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The child's loop: each call's result (or exception) back, until the parent closes the pipe."""
    while True:
        try:
            n, fn, args = _receive(inp)
        except EOFError:
            return
        try:
            reply = (n, True, fn(*args))
        except Exception as err:  # the parent's future raises it
            reply = (n, False, err)
        try:
            _send(out, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            _send(out, (n, False, WorkerDied(f"the result could not be sent back: {err}")))


if __name__ == "__main__":
    # the replies go to the parent on the original stdout; anything else printed goes to stderr
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
