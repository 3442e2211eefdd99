"""Files and stores from outside: one loader for TOML, one parser for a store's location, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.errors import ConfigError
from dialer.files import STORE_FORMS, load_toml, read_text, store_url


def test_a_toml_file_and_toml_text_give_the_same_table(tmp_path: Path):
    p = tmp_path / "s.toml"
    p.write_text('[study]\nname = "x"\ndays = 2\n', encoding="utf-8")
    assert load_toml(p) == load_toml(text=p.read_text(encoding="utf-8")) == {"study": {"name": "x", "days": 2}}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.toml", r"^scenario file '.*missing\.toml' does not exist$"),
        (lambda d: d, r"^scenario file '.*' cannot be read: "),  # a directory: an OSError
        (lambda d: _write(d / "latin1.toml", "name = 'Bod\xf8'".encode("latin-1")),
         r"^scenario file '.*latin1\.toml' is not UTF-8 text \(byte 11\)$"),
        (lambda d: _write(d / "bad.toml", b"[study\n"), r"^.*bad\.toml: malformed TOML: "),
    ],
    ids=["missing", "directory", "not-utf8", "malformed"],
)
def test_every_problem_of_a_file_is_one_config_error_naming_it(tmp_path: Path, make, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_toml(make(tmp_path), what="scenario file")
    assert "\n" not in str(info.value)


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def test_malformed_text_is_named_by_its_source():
    with pytest.raises(ConfigError, match=r"^default scenario: malformed TOML: "):
        load_toml(text="x = = 1", source="default scenario")


def test_a_path_or_text_never_both():
    with pytest.raises(TypeError):
        load_toml("a.toml", text="x = 1")
    with pytest.raises(TypeError):
        load_toml()


def test_read_text_drops_a_byte_order_mark_when_asked(tmp_path: Path):
    p = _write(tmp_path / "l.csv", b"\xef\xbb\xbfphone\n")
    assert read_text(p, encoding="utf-8-sig") == "phone\n"
    assert read_text(p) == "\ufeffphone\n"


def test_a_path_is_a_sqlite_file_with_its_absolute_path(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert store_url("s.sqlite") == f"sqlite:///{tmp_path.resolve() / 's.sqlite'}"
    assert store_url(tmp_path / "t.sqlite") == f"sqlite:///{tmp_path.resolve() / 't.sqlite'}"


@pytest.mark.parametrize(
    "location, url",
    [
        ("sqlite:////var/x.sqlite", "sqlite:////var/x.sqlite"),
        ("sqlite+pysqlite:///x.sqlite", "sqlite+pysqlite:///x.sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:pw@h:5433/db", "postgresql+psycopg://u:pw@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_a_database_url_gets_the_driver_the_project_installs(location, url):
    assert store_url(location) == url


@pytest.mark.parametrize(
    "location, shown",
    [("mysql://db/x", "mysql://db/x"), ("mysql://ann:secret@db/x", "mysql://ann:***@db/x"),
     ("http://h/x", "http://h/x"), ("nosuchdb://x", "nosuchdb://x")],
)
def test_any_other_scheme_is_refused_naming_the_value_and_the_forms(location, shown):
    with pytest.raises(ConfigError) as info:
        store_url(location)
    assert str(info.value) == f"store must be {STORE_FORMS}, got {shown!r}"
    assert "secret" not in str(info.value)
    assert "sqlite:///PATH" in STORE_FORMS and "postgresql://" in STORE_FORMS and "file path" in STORE_FORMS


def test_both_stores_refuse_an_unsupported_scheme_with_the_same_line():
    from dialer.compliance.store import Store as StatisticsStore
    from dialer.live.store import Store as LiveStore

    for cls in (StatisticsStore, LiveStore):
        with pytest.raises(ConfigError, match=r"^store must be a database URL \(sqlite:///PATH or postgresql://"
                                              r"USER@HOST/DB\) or a SQLite file path, got 'mysql://ann:\*\*\*@db/x'$"):
            cls("mysql://ann:secret@db/x")
