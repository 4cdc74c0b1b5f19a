"""Exercises: "predict, observe, explain" with real runs. ``spec`` loads and checks the TOML files in
``exercises/``; ``judge`` checks a student's answer and compares it with the runs' results."""
