"""The layers as the folders promise: every module imports, and no import points up a layer.

The layers, lowest first (docs/design.md draws them):

    base      dialer.errors, dialer.checks, dialer.units, dialer.files, dialer.limits, dialer._version
    theory    dialer.theory            closed forms: numbers in, numbers out
    core      dialer.core              the sans-IO controller
    rules     dialer.rules             the law as data (beside the core, which never needs it)
    cache     dialer.policy_cache      the solved policies and day plans on disk
    records   dialer.compliance        the statistics store, registers, audit
    sim       dialer.sim               simulated time          } siblings: neither
    live      dialer.live              wall-clock time, HTTP   } imports the other
    above     dialer.plan, dialer.emulate, dialer.teach
    cli       dialer.cli               the command line: no library module imports it

Every `import` and `from ... import` in a module counts, wherever it stands
(inside a function too): a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import dialer

ROOT = Path(dialer.__file__).resolve().parent

#: group -> the groups it may import from (besides itself)
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "theory": {"base"},
    "core": {"base", "theory"},
    "rules": {"base", "core"},
    "cache": {"base", "theory", "core"},
    "records": {"base", "core", "rules"},
    "sim": {"base", "theory", "core", "rules", "cache", "records"},
    "live": {"base", "theory", "core", "rules", "cache", "records"},
    "above": {"base", "theory", "core", "rules", "cache", "records", "sim", "live", "above"},
    "cli": {"base", "theory", "core", "rules", "cache", "records", "sim", "live", "above", "package"},
    # the package's own __init__ re-exports the public API: the core and the in-process live campaign
    "package": {"base", "core", "live"},
}

BASE = {"dialer.errors", "dialer.checks", "dialer.units", "dialer.files", "dialer.limits", "dialer._version"}
PACKAGES = {
    "dialer.theory": "theory",
    "dialer.core": "core",
    "dialer.rules": "rules",
    "dialer.policy_cache": "cache",
    "dialer.compliance": "records",
    "dialer.sim": "sim",
    "dialer.live": "live",
    "dialer.plan": "above",
    "dialer.emulate": "above",
    "dialer.teach": "above",
    "dialer.cli": "cli",
}


def group_of(module: str) -> str:
    """The layer of a dotted module name of ours (a name must fall in one, or the test names it)."""
    if module in BASE:
        return "base"
    if module == "dialer":
        return "package"
    for prefix, group in PACKAGES.items():
        if module == prefix or module.startswith(prefix + "."):
            return group
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_layers.py and docs/design.md")


def modules() -> list[str]:
    names = ["dialer"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="dialer."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def source_of(module: str) -> Path:
    path = ROOT.parent / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports_of(module: str) -> list[tuple[int, str]]:
    """(line, dotted name of ours) for every import in the module's source."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "dialer"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "dialer":  # from dialer import X: a submodule, or the package's own API
                for a in node.names:
                    sub = f"dialer.{a.name}"
                    known = source_of(sub).exists() or (ROOT / a.name).is_dir()
                    out.append((node.lineno, sub if known else "dialer"))
            elif node.module.split(".")[0] == "dialer":
                out.append((node.lineno, node.module))
    return out


ALL = modules()


def test_every_module_has_a_layer() -> None:
    for m in ALL:
        group_of(m)


@pytest.mark.parametrize("module", ALL)
def test_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("module", ALL)
def test_no_import_points_up(module: str) -> None:
    mine = group_of(module)
    wrong = [
        f"{module}:{line} imports {target} ({group_of(target)})"
        for line, target in imports_of(module)
        if group_of(target) != mine and group_of(target) not in ALLOWED[mine]
    ]
    assert not wrong, f"{module} is in layer {mine!r}, which may import only {sorted(ALLOWED[mine])}: " + "; ".join(wrong)


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule itself: a core module importing the simulator would be caught."""
    assert group_of("dialer.sim.engine") not in ALLOWED[group_of("dialer.core.controller")]
    assert group_of("dialer.live.app") not in ALLOWED[group_of("dialer.sim.engine")]
    assert group_of("dialer.sim.engine") not in ALLOWED[group_of("dialer.live.service")]
    assert group_of("dialer.cli.common") not in ALLOWED[group_of("dialer.plan.study")]
    assert group_of("dialer.core.ledger") not in ALLOWED[group_of("dialer.theory.optimal")]
