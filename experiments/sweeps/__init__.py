"""Sweeps: the spec, the local process pool and the Ray engine."""
