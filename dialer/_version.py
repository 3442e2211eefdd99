"""The package's version, in one place: `pyproject.toml` reads it, `dialer --version` and the service print it."""

__version__ = "0.1.0"
