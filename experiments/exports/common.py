"""What every exporter shares: its error, the optional packages and how to install them, the runs asked for,
the lab's version written into what leaves it."""
from __future__ import annotations

import importlib
import importlib.util
import tomllib
from collections.abc import Sequence
from enum import Enum
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType

from experiments.i18n import _
from experiments.store import RunRecord, RunStore

INSTALL_HINT = "pip install -r requirements-export.txt"
LAB = "mnist-mlp-lab"


class ExportError(Exception):
    """An export that cannot be done as asked (the message is one line saying why); nothing was written."""


class Tool(Enum):
    """The tools runs are exported to, with the packages each needs (import names)."""

    TENSORBOARD = ("TensorBoard", ("tensorboardX",))
    MLFLOW = ("MLflow", ("mlflow",))
    ONNX = ("ONNX", ("onnx",))

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def packages(self) -> tuple[str, ...]:
        return self.value[1]


def missing_packages(tool: Tool) -> list[str]:
    """The packages ``tool``'s export needs that are not installed (none: the export can run)."""
    return [name for name in tool.packages if importlib.util.find_spec(name) is None]


def require(name: str, tool: Tool) -> ModuleType:
    """Import an optional package, or raise ExportError saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ExportError(_("the {tool} export needs the package {name}: {hint}").format(
            tool=tool.label, name=name, hint=INSTALL_HINT)) from None


def runs_to_export(store: RunStore, run_ids: Sequence[int] | None) -> list[RunRecord]:
    """The runs of ``run_ids`` in that order (every stored run, oldest first, for None); ExportError naming
    the ids that are not stored, or saying there is no run at all."""
    if run_ids is None:
        runs = store.search_runs(order_by="id", descending=False)
        if not runs:
            raise ExportError(_("there are no stored runs to export"))
        return runs
    ids = list(dict.fromkeys(int(i) for i in run_ids))
    found = {run.id: run for run in store.search_runs(ids=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ExportError(_("there is no run {ids}: nothing written").format(ids=", ".join(missing)))
    if not ids:
        raise ExportError(_("no run to export"))
    return [found[i] for i in ids]


@cache
def lab_version() -> str:
    """The lab's version (pyproject.toml's, or the installed distribution's), for the metadata of exports."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(LAB)
    except metadata.PackageNotFoundError:
        return "unknown"
