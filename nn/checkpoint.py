"""Checkpoints and resume (Keras's ``BackupAndRestore``): the whole training state in one ``.npz``, no pickle.

A run's only randomness after initialisation is drawn from generators seeded by (seed, epoch) (the shuffle,
dropout masks), so the seed and the number of finished epochs are its whole RNG state. Everything else that
decides the next epochs is the model's parameters, the optimizer's state and the state of the stateful
callbacks (``nn.callbacks.Stateful``: early stopping's patience and best weights, the lr schedule in use,
the dynamics' histogram bins, the run's clock). ``BackupAndRestore`` saves all of it after every epoch;
``load_checkpoint(path).restore(model, optimizer, callbacks)`` puts it back into freshly built pieces, and
training them with ``FitOptions(..., seed=ckpt.seed, initial_epoch=ckpt.epoch)`` replays the remaining
epochs exactly as an uninterrupted run would.

Layout: ``meta`` (a JSON string: format, epoch, seed, architecture, optimizer kind/hyperparameters/steps,
history, ``callbacks``: each stateful callback's state by name, its arrays replaced by references, and
``extra``: the caller's JSON, e.g. which stored run the file belongs to), ``params`` (the flat parameter
buffer), ``optimizer/<param index>/<state name>`` and ``callbacks/<name>/<key>...`` arrays. Format 1 files
(written before callbacks kept their state) load with no callback state: their callbacks start afresh.

nn knows nothing of storage: the file is written to the path it is given, atomically by default, or through
a caller's ``place`` (e.g. a run store that keeps the file only while its run exists).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .callbacks import Callback, Order, Stateful
from .mlp import MLP
from .optim import OPTIMIZERS, Optimizer
from .translation import _  # messages read in the language experiments.i18n installs

FORMAT = 2
READABLE_FORMATS = (1, FORMAT)
ARRAY = "__array__"  # in meta's callback states: {"__array__": key} stands for the array stored under key

# Puts a file in place at a path: given the path and a function that writes the whole file to a path it is
# handed (a temporary one), it must leave either the whole new file at the path or the previous one.
Place = Callable[[Path, Callable[[Path], None]], object]


class CheckpointError(Exception):
    """A checkpoint that cannot be used (missing, truncated, another architecture), with a one-line message."""


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary file in ``path``'s folder, fsync it, then rename it over ``path``: a reader (or
    a crash) never sees half a file, and the previous file stays until the new one is whole."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stateful_callbacks(callbacks: Iterable[Any]) -> dict[str, Stateful]:
    """The callbacks with ``state_dict``/``load_state_dict``, by the name their state is saved under: the
    class name, with ``#2``, ``#3``... for later callbacks of the same class (in the order given)."""
    named: dict[str, Stateful] = {}
    for cb in callbacks:
        if isinstance(cb, Stateful):
            name, n = type(cb).__name__, 1
            while (key := name if n == 1 else f"{name}#{n}") in named:
                n += 1
            named[key] = cb
    return named


def save_checkpoint(path: str | os.PathLike[str], model: MLP, optimizer: Optimizer, *, epoch: int, seed: int,
                    history: Sequence[dict[str, Any]] = (), callbacks: Iterable[Any] = (),
                    extra: dict[str, Any] | None = None, place: Place = write_atomically) -> None:
    """Write the training state to ``path`` through ``place`` (atomically by default): the model, optimizer,
    epochs finished, seed, the whole run's ``history``, the state of every stateful callback among
    ``callbacks``, and the caller's JSON ``extra``."""
    state = optimizer.state_dict()
    arrays = {f"optimizer/{i}/{name}": a for i, s in state["state"].items() for name, a in s.items()}
    states = {name: _pack(cb.state_dict(), f"callbacks/{name}", arrays)
              for name, cb in stateful_callbacks(callbacks).items()}
    meta = {"format": FORMAT, "epoch": int(epoch), "seed": int(seed), "model": model.architecture(),
            "optimizer": {"kind": state["kind"], "hyperparameters": state["hyperparameters"], "steps": state["steps"]},
            "history": list(history), "callbacks": states, "extra": dict(extra or {})}
    encoded = np.array(json.dumps(meta, default=float))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a path without it
            np.savez(f, meta=encoded, params=model.flat_params, **arrays)
            f.flush()
            os.fsync(f.fileno())

    place(Path(path), write)


@dataclass
class Checkpoint:
    """A checkpoint as read from its file: where training stopped and the saved state of every piece."""

    epoch: int            # epochs finished: continue with FitOptions(initial_epoch=epoch)
    seed: int
    architecture: dict[str, Any]
    params: np.ndarray
    optimizer_state: dict[str, Any]  # Optimizer.state_dict()'s shape
    history: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # state by name (stateful_callbacks)
    extra: dict[str, Any] = field(default_factory=dict)  # what the caller saved beside the training state
    name: str = "checkpoint"  # the file's name, for messages

    def restore(self, model: MLP, optimizer: Optimizer, callbacks: Iterable[Any] = ()) -> None:
        """Load the saved state into ``model``, ``optimizer`` and the stateful ``callbacks`` (each by its name;
        one without saved state keeps its own), which must match the checkpoint's architecture, optimizer
        kind and callbacks' settings. A ``BackupAndRestore`` among ``callbacks`` goes on with the saved
        history. Every problem raises CheckpointError (one line), with nothing changed."""
        named = stateful_callbacks(callbacks)
        self._check_model(model)
        pieces: list[tuple[str, Any, dict[str, Any]]] = [
            (_("its {kind} optimizer state").format(kind=self.optimizer_state.get("kind")), optimizer,
             self.optimizer_state),
            *((_("the state of {name}").format(name=name), named[name], state)
              for name, state in self.callbacks.items() if name in named)]
        before = [(piece, piece.state_dict()) for _what, piece, _state in pieces]
        try:
            for what, piece, state in pieces:
                try:
                    if piece is optimizer:
                        optimizer.load_state_dict(state, [model.flat_params])
                    else:
                        piece.load_state_dict(state)
                except (ValueError, TypeError, KeyError) as exc:
                    raise CheckpointError(_("{file}: cannot restore {what} ({reason})").format(
                        file=self.name, what=what, reason=exc)) from None
        except CheckpointError:
            for piece, state in before:
                piece.load_state_dict(state)
            raise
        model.flat_params[...] = self.params
        for cb in callbacks:
            if isinstance(cb, BackupAndRestore):
                cb.history_before = list(self.history)

    def build(self) -> tuple[MLP, Optimizer]:
        """A fresh model and optimizer of the saved architecture and kind, with the saved state."""
        try:
            model = MLP.from_architecture(self.architecture)
            optimizer = OPTIMIZERS[str(self.optimizer_state.get("kind"))](**self.optimizer_state["hyperparameters"])
        except (ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(_("{file} describes no valid network and optimizer ({reason})").format(
                file=self.name, reason=exc)) from None
        self.restore(model, optimizer)
        return model, optimizer

    def _check_model(self, model: MLP) -> None:
        """CheckpointError unless ``model`` is of the saved architecture and the parameters fit it (checked on
        a one-unit network of the saved kind, so nothing of the saved size is allocated)."""
        try:
            sizes = [int(n) for n in self.architecture["sizes"]]
            tiny = MLP.from_architecture({**self.architecture, "sizes": [1, 1]})
        except (ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(_("{file} describes no valid network ({reason})").format(file=self.name,
                                                                                  reason=exc)) from None
        if model.architecture() != {**tiny.architecture(), "sizes": sizes}:
            kind = tiny.describe().split(" ", 1)[1]
            raise CheckpointError(_("{file} holds a {sizes} {kind} network, not the {network} one it is loaded "
                                    "into").format(file=self.name, sizes="-".join(map(str, sizes)), kind=kind,
                                                   network=model.describe()))
        if self.params.shape != model.flat_params.shape:
            raise CheckpointError(_("{file} holds {n} parameters but its network needs {needed}: the file is "
                                    "corrupted").format(file=self.name, n=self.params.size,
                                                        needed=model.flat_params.size))


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint (to ``restore`` into built pieces, or ``build`` afresh). CheckpointError, with a
    one-line message, for a missing, truncated or corrupted file or one of an unknown format."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(_("no checkpoint at {path}").format(path=path))
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            params = f["params"]
            arrays = {key: f[key] for key in f.files if key.startswith(("optimizer/", "callbacks/"))}
        _check_format(path.name, meta)
        optimizer = {**meta["optimizer"], "state": _nest({k: a for k, a in arrays.items()
                                                           if k.startswith("optimizer/")})}
        callbacks = {name: _unpack(state, arrays) for name, state in (meta.get("callbacks") or {}).items()}
        return Checkpoint(int(meta["epoch"]), int(meta["seed"]), dict(meta["model"]), params, optimizer,
                          list(meta["history"]), callbacks, dict(meta.get("extra") or {}), path.name)
    except CheckpointError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise _unreadable(path.name, exc) from None


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint's ``meta`` (epoch, seed, architecture, optimizer, history, callbacks, extra) without
    reading its arrays: a quick check before a long load. CheckpointError (one line) for a missing or
    unreadable file; a truncated file is found here too, since a zip's directory is at its end."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(_("no checkpoint at {path}").format(path=path))
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            if "params" not in f.files or not isinstance(meta, dict):
                raise KeyError("params")
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise _unreadable(path.name, exc) from None
    _check_format(path.name, meta)
    return meta


def _check_format(name: str, meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(_("{file} has checkpoint format {found}, expected {expected}").format(
            file=name, found=repr(found), expected=FORMAT))


def _unreadable(name: str, exc: BaseException) -> CheckpointError:
    return CheckpointError(_("{file} is not a readable checkpoint (truncated or corrupted: {error}): delete it or "
                             "train from scratch").format(file=name, error=type(exc).__name__))


def _nest(arrays: dict[str, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
    """``{"optimizer/0/m": a}`` -> ``{0: {"m": a}}``."""
    state: dict[int, dict[str, np.ndarray]] = {}
    for key, a in arrays.items():
        _kind, index, name = key.split("/")
        state.setdefault(int(index), {})[name] = a
    return state


def _pack(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` with every array moved into ``arrays`` (under a key made from its place) and referenced."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {ARRAY: key}
    if isinstance(value, dict):
        return {str(k): _pack(v, f"{key}/{k}", arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(v, f"{key}/{i}", arrays) for i, v in enumerate(value)]
    return value


def _unpack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``_pack`` undone: each reference replaced by its array (KeyError for a missing one)."""
    if isinstance(value, dict):
        if set(value) == {ARRAY}:
            return arrays[value[ARRAY]]
        return {k: _unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    return value


class BackupAndRestore(Callback):
    """Checkpoints the run to ``path`` after every epoch (Keras's ``BackupAndRestore``): the model, optimizer,
    epoch, seed, the whole run's history and every stateful callback's state; only the latest is kept.

    It runs last (``Order.CHECKPOINT``), so it saves the state every other callback left at the epoch's end.
    ``place`` puts the file in place (atomically by default); ``extra`` is JSON saved beside the state (e.g.
    the stored run the file belongs to). ``history_before`` is the history of the epochs before this call of
    ``fit``, set by ``Checkpoint.restore`` when the run resumes, so the file always holds the whole run's.
    """

    order = Order.CHECKPOINT

    def __init__(self, path: str | os.PathLike[str], *, place: Place = write_atomically,
                 extra: dict[str, Any] | None = None):
        self.path, self.place, self.extra = Path(path), place, dict(extra or {})
        self.history_before: list[dict[str, Any]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        run = self.loop
        save_checkpoint(self.path, run.model, run.optimizer, epoch=epoch, seed=run.options.seed,
                        history=[*self.history_before, *run.history], callbacks=run.callbacks, extra=self.extra,
                        place=self.place)


class RunClock(Callback):
    """Makes each epoch's ``elapsed`` the run's training time across resumes: ``fit`` counts from its own
    start, so the time before the checkpoint (its state) is added to every epoch after it."""

    order = Order.MEASURE

    def __init__(self) -> None:
        self.before = self.elapsed = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        logs["elapsed"] = self.elapsed = self.before + float(logs.get("elapsed") or 0.0)

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.before = self.elapsed = float(state["elapsed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a run clock state ({type(exc).__name__}: {exc})") from None
