"""Tamper evidence for the event log: a Merkle tree over it and signed checkpoints of that tree."""
