"""The command line, ``python -m experiments ...``: the same runs as the dashboard, headless.

``entry`` builds the parser and runs a command; one module per command group (``runs``: run, list, show;
``exports``: export, export-model; ``report``: reproduce, report; ``sweeps``; ``insights``; ``lr_find``;
``fix``; ``resume``: resume, continue); ``common`` holds what they share. Nothing is imported here, so
importing a command module does not import the entry.
"""
