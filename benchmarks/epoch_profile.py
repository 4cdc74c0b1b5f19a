"""Where an epoch goes: one epoch of 784-128-10, batch 64 (the product's path), profiled by CPU time.

cProfile with a CPU-time clock, so that other load on a shared machine does not count; NumPy's matrix
products and elementwise calls are not functions cProfile sees, so they are charged to the function that
calls them (``_forward``: the forward products; ``_backward``: the backward ones; the optimizer's
kernel or passes: its ``_update``).
"""
from __future__ import annotations

import cProfile
import io
import pstats
import time

from nn import Dataset


def profile_epoch(data: Dataset, top: int = 12) -> None:
    from benchmarks.contenders import time_ours

    time_ours(data, (784, 128, 10), 64, 0)  # warm-up: kernels compiled, buffers allocated
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(time_ours, data, (784, 128, 10), 64, 1)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\nWhere an epoch of 784-128-10 b64 goes (CPU seconds, {total:.3f} in all):")
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    print("\n".join(lines[start:start + top + 1]))
