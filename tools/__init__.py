"""Development tools: a log generator, a throwaway PostgreSQL server and `python -m tools.seed`.

Not part of the installed product (pyproject.toml packages domain, application, infrastructure and
api only): a production `ledger` cannot append generated events to a real log.
"""
