"""Read models projected from the event log: temporal facts for permission decisions."""
