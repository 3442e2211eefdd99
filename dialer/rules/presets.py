"""Reading jurisdiction presets: the packaged `data/presets.toml`, or a user's own file.

Owns: finding and parsing preset files (`load_presets`, `get_preset`).
Must not know about: what the rules mean (that is `dialer.rules.preset`), the CLI.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from dialer.errors import ConfigError
from dialer.files import load_toml
from dialer.rules.preset import Preset, presets_from_dict

DEFAULT_PRESET = "NO"


def packaged_text() -> str:
    """The presets shipped with the package (NO, UK, US, CA), as TOML: copy it to write your own."""
    return resources.files("dialer").joinpath("data/presets.toml").read_text(encoding="utf-8")


@cache
def _packaged() -> dict[str, Preset]:
    """The packaged presets, parsed once per process (they are frozen; callers get a copy of the dict)."""
    return presets_from_dict(load_toml(text=packaged_text(), source="presets.toml"), source="presets.toml")


def load_presets(path: str | Path | None = None) -> dict[str, Preset]:
    """Every preset of a file (default: the packaged one); each problem is one ConfigError line."""
    if path is None:
        return dict(_packaged())
    return presets_from_dict(load_toml(path, what="presets file"), source=str(Path(path)))


def get_preset(name: str, path: str | Path | None = None) -> Preset:
    """One preset by name; an unknown name lists the ones there are."""
    presets = load_presets(path)
    if name not in presets:
        raise ConfigError(f"preset must be one of {', '.join(presets)}, got {name!r}")
    return presets[name]
