"""The use cases: the ledger application service, one module of commands and queries per concept.

It loads aggregates, lets them decide, saves what changed in one transaction and re-runs a command
that met a concurrent writer. It imports ``domain``; only ``infrastructure`` and ``api`` import it.
"""
