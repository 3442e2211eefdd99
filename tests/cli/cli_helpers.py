"""What the command-line tests share: running `dialer` in-process, and the one-line error they expect.

    code = run(["simulate", "missing.toml"])
    assert_one_error_line(capsys.readouterr(), ["missing.toml"])
"""

from __future__ import annotations

from typing import Any, Iterable

from dialer import cli


def run(argv: list[str]) -> int:
    """`dialer.cli.main` in-process; an argparse exit (bad flags, --help) counts as a return code."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code) if exc.code is not None else 0


def assert_one_error_line(captured: Any, needles: Iterable[str]) -> None:
    """Nothing on stdout, and exactly one line on stderr, "dialer: error: ...", holding every needle."""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("dialer: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert captured.out == ""
