"""`dialer serve` in a thread of the test, on a store of the test's own, with the register secret: what
the compliance-record and screening tests drive over HTTP (the same app, service and store as `dialer
serve --store URL` with DIALER_DNC_SECRET)."""

from __future__ import annotations

import threading

from dialer.live.registers import RegisterView
from dialer.live.service import Service
from dialer.live.store import Store
from dialer.rules.dnc import Hasher

from live_auth import TOKEN


class Served:
    """The service on `url`, listening on a loopback port (`self.url`); `screening`: with the store's
    registers (a `RegisterView`), as `dialer serve` has them when it has the secret."""

    def __init__(self, url: str, hasher: Hasher, *, screening: bool = False, **service: object) -> None:
        import uvicorn

        from dialer.live.app import create_app
        from dialer.live.serve import bind

        self.store = Store(url, sqlite_sync="normal")
        self.store.check_key(hasher.fingerprint)
        self.registers = RegisterView(url, hasher) if screening else None
        self.service = Service(self.store, hasher=hasher, registers=self.registers, policy_cache=False,
                               **service)  # type: ignore[arg-type]
        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.service, TOKEN), log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.service.shutdown()
        if self.registers is not None:
            self.registers.close()
        self.store.close()
        self.sock.close()
