"""Reading runs: seed statistics, diagnoses, inspection and the pure figure builders."""
