"""The project's inputs from outside: text and TOML files, and where a database store lives.

Owns: `read_text` (a file as text), `load_toml` (a TOML file or text as a
table) and `store_url` (a store's location as an SQLAlchemy URL); every
problem is one `ConfigError` line that names the file or the store.
Must not know about: anything of ours but `dialer.errors` (a base module:
every layer may import it); what the tables mean (scenarios, studies and
presets check their own keys); SQLAlchemy itself (only the URL's text).

    load_toml("study.toml", what="scenario file")   # -> {"study": {...}, ...}
    load_toml(text="x = 1", source="inline")         # -> {"x": 1}
    store_url("stats.sqlite")                        # -> "sqlite:////abs/path/stats.sqlite"
    store_url("mysql://db/x")  # ConfigError: store must be a database URL (...), got 'mysql://db/x'
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dialer.errors import ConfigError, bad

#: the database URL schemes a store accepts (a +driver suffix is allowed: postgresql+psycopg://)
STORE_SCHEMES = ("sqlite", "postgresql", "postgres")
STORE_FORMS = "a database URL (sqlite:///PATH or postgresql://USER@HOST/DB) or a SQLite file path"


def read_text(path: str | os.PathLike[str], *, what: str = "file", encoding: str = "utf-8") -> str:
    """The text of a file; a missing, unreadable or non-UTF-8 file is one ConfigError naming it (`what` 'path')."""
    p = Path(path)
    try:
        return p.read_text(encoding=encoding)
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(p)!r} does not exist") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{what} {str(p)!r} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{what} {str(p)!r} cannot be read: {err.strerror or err}") from None


def load_toml(path: str | os.PathLike[str] | None = None, *, text: str | None = None, source: str | None = None,
              what: str = "file") -> dict[str, Any]:
    """The table of a TOML file (`path`) or of TOML `text`, never both.

    Errors name the file: `source` (default: the path) in front of a
    malformed document ("study.toml: malformed TOML: ..."), `what` in front
    of a file that cannot be read ("scenario file 'x.toml' does not exist").
    """
    if (path is None) == (text is None):
        raise TypeError("load_toml takes a path or text=, not both and not neither")
    if path is not None:
        text = read_text(path, what=what)
        source = source or str(Path(path))
    try:
        return tomllib.loads(text)  # type: ignore[arg-type]
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source or 'TOML text'}: malformed TOML: {err}") from None


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def store_url(location: str | os.PathLike[str]) -> str:
    """An SQLAlchemy URL from a store's location: a SQLite file path, sqlite:///PATH or postgresql://...

    A path becomes sqlite:/// and its absolute path; postgresql:// and
    postgres:// get the driver this project installs (postgresql+psycopg://).
    Any other scheme (mysql://, http://) is refused, naming the value (its
    password hidden) and the forms accepted.
    """
    text = os.fspath(location)
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    scheme = text.split("://", 1)[0].lower()
    if scheme.split("+", 1)[0] not in STORE_SCHEMES:
        raise bad("store", _hide_password(text), STORE_FORMS)
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text
