"""Everything about runs: configuration, execution, storage, presets and the command line.

Knows nothing of Streamlit; the dashboard calls in here.
"""
from experiments.config import ConfigError, RunConfig

__all__ = ["RunConfig", "ConfigError"]
