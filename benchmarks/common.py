"""What every benchmark script needs besides its own measurement: a stderr log, percentiles,
memory readings, a timed loop, SIGTERM handling and a free port."""

from __future__ import annotations

import resource
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

Log = Callable[[str], None]


def stderr_log(name: str) -> Log:
    """A logger printing ``[name] message`` lines on stderr (stdout carries the figures)."""

    def log(message: str) -> None:
        print(f"[{name}] {message}", file=sys.stderr, flush=True)

    return log


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb() -> float:
    """Current resident set size of this process, in MB (0 if it cannot be read)."""
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process().memory_info().rss) / (1024 * 1024)
    except Exception:  # psutil missing or unsupported: the peak below still works
        return 0.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is KiB on Linux)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS
    return float(maxrss) / divisor


def run_for(seconds: float, step: Callable[[int], object]) -> tuple[int, float]:
    """Calls ``step(i)`` until ``seconds`` have passed; answers (calls, elapsed seconds)."""
    start = time.perf_counter()
    deadline = start + seconds
    count = 0
    while True:
        step(count)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def stop_cleanly_on_signals(*signums: int) -> None:
    """Turns SIGTERM (and any other signal named) into an exception, so the ``finally`` blocks
    that stop throwaway servers run."""
    for signum in signums or (signal.SIGTERM,):
        signal.signal(signum, _terminate)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
