"""Benchmark scripts (run them as scripts, e.g. `python benchmarks/write_path.py`)."""
