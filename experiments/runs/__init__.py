"""Running runs: the store, the run manager, the one execution path, the dataset source."""
