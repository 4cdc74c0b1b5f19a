"""The course report: its numbers, its comparisons as presets, outcomes, figures and the HTML page."""
