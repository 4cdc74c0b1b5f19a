"""The machinery of the run-settings schema; the schema itself is ``experiments.config.RunConfig``.

Each RunConfig field carries one ``Setting`` (label, help, parser, widget hints, legend name) in its
dataclass metadata. The command line (``experiments.cli.common.add_config_arguments``), the dashboard's
sidebar (``ui.sidebar``), its session keys (``ui.common.CONFIG_KEYS``), "load into sidebar", legend labels
and validation all read that one declaration, so adding a setting is one ``setting(...)`` field in RunConfig.

- ``parsers``: user values (text, numbers, lists) into typed values, or a one-line ``ConfigError``.
- ``setting``: the ``Setting`` record, the ``Widget`` kinds and ``schema_of`` (the fields with their settings).
- ``limits``: the product's caps and the offered choices.
- ``labels``: short legend labels from the settings that differ between runs.
"""
