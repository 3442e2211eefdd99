"""The compliance records: the statistics store, the do-not-call registers kept in it, the audit.

Owns what touches files and databases: `store` (norm 4.3 daily statistics,
the dial log and the registers' entries, SQLite or PostgreSQL), `registers`
(importing register files and washing lead lists against the store) and
`audit` (what a call centre hands the regulator). The rules themselves are
sans-IO data in `dialer.rules`; this package reads and writes, and never
decides a rule on its own.
"""
