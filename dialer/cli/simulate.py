"""`dialer simulate`: one simulated study, printed as norm 4.3 asks for it.

    dialer simulate [SCENARIO] [--seed N] [--json PATH] [--store URL]

Owns: this command's flags, its table and the files it writes.
Must not know about: how a day is simulated (`dialer.sim`).
"""

from __future__ import annotations

import argparse

from dialer.cli import common as cli, progress


def _simulate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--seed", type=cli.nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--store",
        metavar="URL",
        help="also record the daily statistics (norm 4.3) in this statistics store "
        "(SQLite path or database URL), for 'dialer stats' and 'dialer audit'",
    )


def run_simulate(args: argparse.Namespace) -> int:
    from dialer.sim import simulate

    sc = cli.load_scenario(args.scenario)
    store = None
    if args.store:
        from dialer.compliance.store import COUNTS, Store

        store = Store(args.store)  # opened first: a bad URL fails before a long run
    with progress.watching():  # a cold start solves the pacer's policies: shown on stderr if it takes long
        result = simulate(sc, seed=args.seed)
    cli.print_simulation(result, cli.console())
    if args.json:
        cli.write_text(args.json, result.to_json())
    if store is not None:
        with store:
            n = 0
            for c in result.campaigns:
                for d in c.days:
                    # every count but written complaints, which the store keeps as recorded
                    counts = {k: getattr(d.stats, k) for k in COUNTS if k != "complaints"}
                    store.put_day(c.name, d.date, counts)
                    n += 1
        cli.console().print(f"  recorded {n} campaign-day(s) in {store.shown}")
    return 0


#: the commands of this module, for `dialer.cli`
COMMANDS = (
    cli.Command("simulate", "simulate a study and print per-day statistics (norm 4.3)", _simulate_args, run_simulate),
)
