"""Everything about runs: configuration, execution, storage, presets and the command line.

Knows nothing of Streamlit; the dashboard calls in here. ``from experiments import Lab`` is the Python API
for notebooks and scripts (``experiments/lab.py``), imported only when asked for, so the command line does
not load pandas and Plotly to start.
"""
from typing import Any

from experiments.config import ConfigError, RunConfig

__all__ = ["ConfigError", "Lab", "Run", "RunConfig"]


def __getattr__(name: str) -> Any:
    """``Lab`` and ``Run``, loaded on first use."""
    if name in ("Lab", "Run"):
        from experiments import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
