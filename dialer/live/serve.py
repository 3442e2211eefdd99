"""Running the service: the loopback-or-token rule, the listening socket, uvicorn.

Owns: `check_binding` (a token is required to listen on anything but
loopback), opening the store and rebuilding its campaigns before the socket
accepts a connection, and running uvicorn on a socket this module bound
itself (so a port in use is one clear error, and port 0 works).

Must not know about: routes (dialer.live.app), the controller.
"""

from __future__ import annotations

import gc
import ipaddress
import socket
import sys

from dialer.errors import ConfigError, bad

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token; refuse an empty or too short token."""
    if token is not None and len(token) < 16:
        raise bad("--token", "*" * len(token), "at least 16 characters")
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host!r} is not a loopback address: a bearer token is required (--token or DIALER_TOKEN)"
        )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on such sockets, and without it every
    # response waits for the client's delayed ACK (about 40 ms on Linux)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as err:
        sock.close()
        raise ConfigError(f"--host {host!r} --port {port}: cannot listen ({getattr(err, 'strerror', None) or err})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, store: str | None, token: str | None, log_level: str = "warning",
          sqlite_sync: str = "full", *, max_body: int | None = None, max_skew: float | None = None,
          secret: bytes | None = None, snapshot_every: int | None = None) -> None:
    """Open the store, rebuild its campaigns, and serve until interrupted (bodies over `max_body`
    bytes refused; times more than `max_skew` s ahead of a campaign's clock refused; None: the defaults;
    `secret`: the register secret, which hashes phone numbers, checked against the store's; `snapshot_every`:
    journal entries between two snapshots of a campaign's state, `dialer.live.service.SNAPSHOT_EVERY` if None,
    0 never)."""
    import uvicorn

    from dialer.live.app import MAX_BODY, create_app
    from dialer.live.service import SNAPSHOT_EVERY, Service
    from dialer.live.store import Store

    check_binding(host, token)
    hasher = None
    if secret is not None:
        from dialer.rules.dnc import Hasher

        hasher = Hasher(secret)
    st = Store(store, sqlite_sync=sqlite_sync)
    registers = None
    try:
        if hasher is not None:  # the registers of the store, screened at dial time (the same secret: checked)
            from dialer.live.registers import RegisterView

            registers = RegisterView(st.url, hasher)
    except ConfigError:
        st.close()
        raise
    from dialer.live.campaign import MAX_SKEW

    # every campaign rebuilt from its journal before the first request
    every = SNAPSHOT_EVERY if snapshot_every is None else (snapshot_every or None)
    try:
        service = Service(st, max_skew=MAX_SKEW if max_skew is None else max_skew, hasher=hasher, registers=registers,
                          snapshot_every=every)
    except Exception:
        if registers is not None:
            registers.close()
        st.close()
        raise
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"dialer: serving on http://{shown}:{actual} (store {st.shown}, {len(service.names())} campaigns)",
          file=sys.stderr, flush=True)
    app = create_app(service, token, max_body=MAX_BODY if max_body is None else max_body)
    # what start-up built (modules, the app, the rebuilt campaigns) lives as long as the process: keep it
    # out of the cyclic collector's full passes, which otherwise stall a request now and then (~70 ms seen)
    gc.collect()
    gc.freeze()
    # one worker (the campaigns live in this process); http and loop "auto" pick httptools and uvloop,
    # which the `live` extra installs (about 1 ms less CPU per request than h11), else h11 and asyncio
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", http="auto", loop="auto")
    stopped: list[bool] = []

    def stop() -> None:
        if stopped:
            return
        stopped.append(True)
        for campaign in service.all():  # decisions queued for the next commit (LiveCampaign, Rule 2)
            try:
                campaign.flush()
            except Exception as err:  # lost decisions never break the guarantee: say so and go on
                print(f"dialer: campaign {campaign.name!r}: queued decisions not written ({err})", file=sys.stderr)
        service.snapshot_all()  # each campaign's state, so that the next start replays little (failures: logged)
        try:
            service.flush_flags()  # the numbers abandoned since the last flush (the journals hold them too)
        except Exception as err:
            print(f"dialer: abandoned numbers not written ({err}); the journals hold them", file=sys.stderr)
        if registers is not None:
            registers.close()
        st.close()
        service.shutdown()  # saves the policies solved while serving (for the next start) and stops the worker

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            service.changes.close()  # the board's streams end, else uvicorn would wait for them for ever
            await super().shutdown(sockets=sockets)
            # here, not only in `finally`: after a SIGTERM uvicorn raises the signal again once this
            # returns, and its default action ends the process before any `finally` runs
            stop()

    try:
        Server(config).run(sockets=[sock])
    finally:
        stop()
