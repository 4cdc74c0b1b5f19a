"""Running runs: the queue and its worker threads, the one execution path, training, checkpoints and resume,
BLAS threads, the dataset source. The run store they write is ``experiments.store``."""
