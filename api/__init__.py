"""HTTP and command-line edge of the ledger: translates input, calls the domain, maps errors."""
