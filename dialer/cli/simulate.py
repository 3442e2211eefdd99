"""`dialer simulate`: one simulated study, printed as norm 4.3 asks for it.

    dialer simulate [SCENARIO] [--seed N] [--json PATH] [--store URL [--replace]]

Owns: this command's flags, its table and the files it writes.
Must not know about: how a day is simulated (`dialer.sim`).
"""

from __future__ import annotations

import argparse

from dialer.cli import common as cli, progress
from dialer.errors import ConfigError


def _simulate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--seed", type=cli.nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--store",
        metavar="URL",
        help="also record the daily statistics (norm 4.3) and the dial log in this statistics store "
        "(SQLite path or database URL), marked simulated, for 'dialer stats' and 'dialer audit'; "
        "a campaign-day already stored is refused",
    )
    p.add_argument("--replace", action="store_true",
                   help="with --store: replace simulated campaign-days already stored (never live ones)")


def run_simulate(args: argparse.Namespace) -> int:
    from dialer.sim import simulate

    sc = cli.load_scenario(args.scenario)
    if args.replace and not args.store:
        raise ConfigError("--replace: only with --store (it replaces simulated days stored there)")
    store = log = None
    if args.store:
        from dialer.compliance.store import Store
        from dialer.sim.compliance import DialLog, check_stored

        store = Store(args.store)  # opened first: a bad URL, or a day stored already, fails before a long run
        try:
            check_stored(store, sc, replace=args.replace)
        except ConfigError:
            store.close()
            raise
        log = DialLog(sc)
    with progress.watching():  # a cold start solves the pacer's policies: shown on stderr if it takes long
        result = simulate(sc, seed=args.seed, observer=log)
    cli.print_simulation(result, cli.console())
    if args.json:
        cli.write_text(args.json, result.to_json())
    if store is not None:
        from dialer.sim.compliance import record

        with store:
            n, dials = record(store, sc, result, log.rows(), replace=args.replace)  # type: ignore[union-attr]
        cli.console().print(f"  recorded {n} campaign-day(s) and {dials:,} dials in {store.shown}, marked simulated")
    return 0


#: the commands of this module, for `dialer.cli`
COMMANDS = (
    cli.Command("simulate", "simulate a study and print per-day statistics (norm 4.3)", _simulate_args, run_simulate),
)
