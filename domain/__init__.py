"""The ledger's domain: aggregates, events and the rules that decide them. No I/O lives here."""
