"""One small module of routes per concept; each only translates and calls the ledger."""
