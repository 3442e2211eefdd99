"""The live commands: the HTTP service and its reference client.

    dialer serve [--host 127.0.0.1] [--port 8000] [--store URL] [--token T] [--max-body 4MiB]
                 [--max-skew 86400] [--secret-file PATH] [--snapshot-every 10000]
    dialer emulate --url URL [SCENARIO] [--seed N] [--json PATH] [--token T] [--speed N]

Owns: parsing these flags and printing; every error a user can cause is one
line (`dialer: error: ...`, exit 2). The token may come from the DIALER_TOKEN
environment variable instead of the command line (where other users of the
machine can read it).
Must not know about: routes, the store's tables, the engine. Registers itself
with `dialer.cli`.
"""

from __future__ import annotations

import argparse
import math
import os

from dialer.cli import common as cli, progress
from dialer.checks import positive




def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return v


_UNITS = {"": 1, "kib": 2**10, "mib": 2**20}


def _size(text: str) -> int:
    """A size in bytes: a whole number, or one with KiB or MiB after it (`4MiB`), 1 KiB to 1 GiB."""
    t = text.strip().lower()
    digits = t.rstrip("kibm")
    unit = _UNITS.get(t[len(digits):].strip())
    n = int(digits) * unit if digits.strip().isdigit() and unit else 0
    if not 2**10 <= n <= 2**30:
        raise argparse.ArgumentTypeError(f"must be a size from 1KiB to 1024MiB (bytes, or KiB or MiB), got {text!r}")
    return n


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0 < v < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return v


def _token(args: argparse.Namespace) -> str | None:
    return args.token if args.token is not None else (os.environ.get("DIALER_TOKEN") or None)


#: argparse type of --speed, the constraint of `dialer.emulate.Pace` (not imported here: it loads the engine)
_speed = cli.typed(positive("multiple of real time"))


# --- dialer serve --------------------------------------------------------------------------------


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; "
                   "anything but loopback requires a token)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--store", metavar="URL", default=None,
                   help="SQLite file or database URL (sqlite:///PATH, postgresql://...); default dialer-live.sqlite")
    p.add_argument("--token", default=None,
                   help="bearer token every request must carry (default: DIALER_TOKEN, else none on loopback)")
    p.add_argument("--sqlite-sync", default="full", choices=("full", "normal"),
                   help="SQLite store: full (default) survives a machine crash, normal only a crash of the service")
    p.add_argument("--max-body", type=_size, default="4MiB", metavar="SIZE",
                   help="largest request body, e.g. 4MiB (default), 512KiB or bytes; a larger one is refused "
                        "(413) before it is read")
    p.add_argument("--max-skew", type=_seconds, default=None, metavar="SECONDS",
                   help="how far ahead of a campaign's clock (its last event or decision) a time may be; a later "
                        "one is refused (409), e.g. a timestamp in milliseconds (default 7776000: 90 days)")
    p.add_argument("--secret-file", metavar="PATH",
                   help="file holding the register secret that hashes phone numbers (default: $DIALER_DNC_SECRET, "
                        "as 'dialer dnc' takes it): candidate leads are then screened against the store's registers at "
                        "dial time; without one the dial log holds no numbers and nothing is screened")
    p.add_argument("--snapshot-every", type=_entries, default=10_000, metavar="N",
                   help="keep each open campaign's state in the store every N journal entries and at shutdown "
                        "(default 10000; 0: never): a restart replays only the entries after the newest, and "
                        "'dialer stats retain' may delete the ones before it")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))


def _entries(text: str) -> int:
    """--snapshot-every: a whole number of journal entries, 0 (never) to 10**9."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v <= 10**9:
        raise argparse.ArgumentTypeError(f"must be a whole number of journal entries from 0 (never) to "
                                         f"1000000000, got {text!r}")
    return v


def run_serve(args: argparse.Namespace) -> int:
    from dialer.live.serve import serve

    serve(args.host, args.port, args.store, _token(args), args.log_level, args.sqlite_sync, max_body=args.max_body,
          max_skew=args.max_skew, secret=_secret(args.secret_file), snapshot_every=args.snapshot_every)
    return 0


def _secret(secret_file: str | None) -> bytes | None:
    """The register secret: the file, else $DIALER_DNC_SECRET, else None (the service runs without one)."""
    from dialer.compliance.registers import SECRET_ENV, secret

    if secret_file is None and not os.environ.get(SECRET_ENV):
        return None
    return secret(secret_file=secret_file)


# --- dialer emulate ----------------------------------------------------------------------------------


def _emulate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8000")
    p.add_argument("--seed", type=cli.nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON (as `dialer simulate` does)")
    p.add_argument("--token", default=None, help="bearer token (default: DIALER_TOKEN)")
    p.add_argument("--prefix", default=None,
                   help="prefix of the campaign names created on the service (default: a fresh random one)")
    p.add_argument("--speed", type=_speed, default=None, metavar="N",
                   help="pace the day at N times real time, e.g. 60: an hour a minute, to watch it on the board "
                        "(default: as fast as the service answers; the results are the same)")


def run_emulate(args: argparse.Namespace) -> int:
    from dialer.emulate import Pace, emulate

    sc = cli.load_scenario(args.scenario)
    pace = None if args.speed is None else Pace(args.speed)
    at = "" if pace is None else f" at {pace.speed:g}x real time"
    # the service solves its pacers' policies and day plans (on a cold start, the first decisions wait)
    with progress.watching() as shown, shown.step(f"driving the service at {args.url}{at}",
                                                   f"drove the service at {args.url}{at}"):
        result = emulate(sc, args.url, seed=args.seed, token=_token(args), prefix=args.prefix, pace=pace)
    cli.print_simulation(result, cli.console())
    if args.json:
        cli.write_text(args.json, result.to_json())
    return 0


#: the commands of this module, for `dialer.cli`: (name, help, add arguments, run)
COMMANDS = (
    cli.Command("serve", "serve the pacing controller over HTTP/JSON (campaigns, events, decisions, metrics)", _serve_args, run_serve),
    cli.Command("emulate", "drive a running service with the simulated call floor of a scenario, as a real dialer would", _emulate_args, run_emulate),
)
