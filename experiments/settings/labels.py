"""Short legend labels that name only the settings that differ between runs, e.g. ``"lr=0.1, batch=64"``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from experiments.settings.setting import schema_of

if TYPE_CHECKING:
    from experiments.config import RunConfig


def differing_fields(configs: Sequence[RunConfig], include_seed: bool = False) -> list[str]:
    """Names of the settings that are not the same across ``configs``, in field order."""
    if not configs:
        return []
    names = [f.name for f in schema_of(type(configs[0])) if include_seed or f.name != "seed"]
    return [n for n in names if len({format_value(n, getattr(c, n)) for c in configs}) > 1]


def short_label(config: RunConfig, names: Sequence[str]) -> str:
    """A legend label from the given settings, e.g. ``"lr=0.1, batch=64"``; the architecture if none."""
    if not names:
        return config.architecture
    shorts = {f.name: f.setting.short for f in schema_of(type(config))}
    return ", ".join(f"{shorts.get(n, n)}={format_value(n, getattr(config, n))}" for n in names)


def labels_for(configs: Sequence[RunConfig]) -> list[str]:
    """One short legend label per config, built from the settings that differ among them."""
    names = differing_fields(configs)
    return [short_label(c, names) for c in configs]


def format_value(name: str, value: Any) -> str:
    """A setting's value in a label: widths joined by dashes ("none" for no hidden layer), floats by %g."""
    if name == "hidden":
        return "-".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
