"""The command line as a whole: every command and sub-command has a help text that formats."""

from __future__ import annotations

from dialer import cli

from cli_helpers import run


def test_every_help_text_formats():
    """`dialer --help` and the help of every command and sub-command print (argparse formats them with %)."""
    import argparse

    def walk(parser: argparse.ArgumentParser, path: str) -> int:
        assert parser.format_help(), path
        n = 1
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    n += walk(sub, f"{path} {name}")
        return n

    assert walk(cli.build_parser(), "dialer") > len(cli.commands())
    assert run(["--help"]) == 0
