"""The compliance layer's edges: preset files, register files, the statistics store, the audit report.

Owns what touches files and databases for issue 4. The rules themselves are
sans-IO and live in the core (`dialer.core.rules`, `.calendar`, `.phone`,
`.dnc`); this package reads and writes, and never decides a rule on its own.
"""
