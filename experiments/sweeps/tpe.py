"""A TPE sweep on the local pool: Optuna chooses each trial from the results so far and prunes weak ones.

The parent process holds the Optuna study and is the only one that talks to it (ask, report, tell, from one
driver thread). Each trial it asks for becomes a stored run (group = sweep id, tag ``sweep:<id>``) and is
trained by a pool worker through the one execution path (``execute_run``), which commits every epoch to the
store. The driver polls the store: each new epoch's accuracy is reported to the trial, and when the pruner
says stop, the driver raises that trial's flag in a shared byte array, then acknowledges the epoch in a
shared int array. After each stored epoch the worker waits (at most ``ACK_TIMEOUT``) for that
acknowledgement, so the decision is taken before the next epoch starts even when epochs are shorter than the
polling interval; its stop switch reads the flag between batches, so a pruned trial stops at once, keeps its
finished epochs and ends "pruned".

Trials are judged on validation accuracy (``PRUNE_COLUMN``; a spec without a validation split is refused:
pruning or choosing on test accuracy would fit the test set), the value told to the study is the trial's best
epoch, and the sampler is TPE with ``constant_liar`` so that trials running
side by side are not drawn on top of each other.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from experiments.config import ConfigError, RunConfig, quote
from experiments.runs.store import RunStore
from experiments.sweeps import local
from experiments.sweeps.local import TrialOutcome, default_workers
from experiments.sweeps.spec import TAG_PREFIX, SweepSpec, Trial, new_sweep_id, run_name
from experiments.sweeps.tpe_spec import Pruner
from nn.callbacks import Callback
from nn.status import RunStatus

PRUNE_COLUMN = "val_acc"
POLL = 0.1  # seconds between looks at the store
ACK_TIMEOUT = 10.0  # seconds a worker waits for the pruner's decision on an epoch before it goes on anyway


def distributions(spec: SweepSpec) -> dict[str, Any]:
    """Optuna distributions for the spec's space: grid lists become categories, random tables distributions."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space: dict[str, Any] = {k: CategoricalDistribution([_choice(v) for v in values])
                             for k, values in spec.grid.items()}
    for key, dist in spec.random.items():
        kind, args = next(iter(dist.items()))
        if kind == "choice":
            space[key] = CategoricalDistribution([_choice(v) for v in args])
        elif kind == "int_uniform":
            space[key] = IntDistribution(int(args[0]), int(args[1]))
        else:
            space[key] = FloatDistribution(float(args[0]), float(args[1]), log=kind == "log_uniform")
    return space


def _choice(value: Any) -> Any:
    """A category Optuna can store: widths given as a list become text such as "128,64"."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def check_space(spec: SweepSpec) -> RunConfig:
    """The base config, after checking that every category and both ends of every range make a valid config."""
    try:
        base = RunConfig.from_dict(spec.base)
    except ConfigError as exc:
        raise ConfigError(f"base: {exc}") from None
    if base.val_size == 0 or "val_size" in spec.grid or "val_size" in spec.random:
        raise ConfigError("a TPE sweep chooses and prunes trials on validation accuracy: hold out validation "
                          "images with a fixed base.val_size above 0 (e.g. 10000)")
    for key, dist in distributions(spec).items():
        ends = list(dist.choices) if hasattr(dist, "choices") else [dist.low, dist.high]
        for value in ends:
            try:
                base.replace(**{key: value})
            except ConfigError as exc:
                raise ConfigError(f"{key}={quote(value)}: {exc}") from None
    return base


def make_study(spec: SweepSpec, epochs: int) -> Any:
    """An in-memory study: TPE (seeded by the spec) and the spec's pruner, maximising accuracy."""
    import optuna

    assert spec.tpe is not None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(n_startup_trials=spec.tpe.startup_trials, seed=spec.seed,
                                         constant_liar=True)
    pruner: optuna.pruners.BasePruner
    if spec.tpe.pruner is Pruner.MEDIAN:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=min(4, spec.tpe.startup_trials), n_warmup_steps=0)
    elif spec.tpe.pruner is Pruner.HYPERBAND:
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1), reduction_factor=3)
    else:
        pruner = optuna.pruners.NopPruner()
    return optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)


@dataclass
class _Running:
    trial: Any              # optuna.Trial from study.ask
    run_id: int
    slot: int
    future: Future
    reported: int = 0       # epochs reported to the trial so far
    values: list[float] = field(default_factory=list)
    pruned: bool = False


class TpeSweep:
    """A TPE sweep in a process pool; the same controls as ``LocalSweep`` (start, stop, done, wait)."""

    def __init__(self, store: RunStore, spec: SweepSpec, workers: int | None = None, sweep_id: str | None = None,
                 source: str = "sweep"):
        if spec.tpe is None:
            raise ConfigError('a TPE sweep needs method = "tpe" and a [tpe] table')
        self.store, self.spec, self.source = store, spec, source
        self.base = check_space(spec)
        self.sweep_id = sweep_id or new_sweep_id()
        self.workers = max(1, min(int(workers or default_workers()), spec.tpe.trials))
        self.run_ids: list[int] = []
        self._ctx = local.multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._flags = self._ctx.Array("b", spec.tpe.trials, lock=False)
        self._acked = self._ctx.Array("i", spec.tpe.trials, lock=False)
        self._pool: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.error = ""

    # ------------------------------------------------------------------ controls
    def start(self) -> list[int]:
        """Start the driver thread (it stores and hands out trials as the pool frees up); returns at once."""
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_init_worker,
                                         initargs=(self._stop, self._flags, self._acked))
        self._thread = threading.Thread(target=self._drive, name=f"tpe-{self.sweep_id}", daemon=True)
        self._thread.start()
        return self.run_ids

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def outcomes(self) -> list[TrialOutcome]:
        runs = {r.id: r for r in self.store.search_runs(ids=self.run_ids)}
        return [TrialOutcome(i, RunStatus(runs[i].status), runs[i].message) for i in self.run_ids if i in runs]

    # ------------------------------------------------------------------ the driver thread
    def _drive(self) -> None:
        """Keep every worker busy until the budget is spent, report epochs, prune, tell results."""
        assert self.spec.tpe is not None and self._pool is not None
        study = make_study(self.spec, self.base.epochs)
        space = distributions(self.spec)
        running: dict[int, _Running] = {}
        started = 0
        try:
            with self.store.thread_connection():
                while True:
                    while len(running) < self.workers and started < self.spec.tpe.trials and not self.stopping:
                        item = self._launch(study, space, started)
                        started += 1
                        if item is not None:
                            running[item.run_id] = item
                    if not running:
                        break
                    time.sleep(POLL)
                    self._observe(running)
                    for run_id in [i for i, r in running.items() if r.future.done()]:
                        self._finish(study, running.pop(run_id))
        except Exception as exc:  # a bug: say so on the sweep, stop the trials, never hang the page
            self.error = f"{type(exc).__name__}: {exc}"
            self._stop.set()
            raise
        finally:
            self._pool.shutdown(wait=True)
            self._done.set()

    def _launch(self, study: Any, space: Mapping[str, Any], slot: int) -> _Running | None:
        trial = study.ask(dict(space))
        try:
            config = self.base.replace(**trial.params)
        except ConfigError as exc:  # a combination the space allows but RunConfig refuses (e.g. batch > data)
            import optuna
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self.error = f"trial {slot} skipped: {exc}"
            return None
        name = run_name(self.spec, Trial(slot, config, dict(trial.params)))
        run_id = self.store.create_run(config, name=name, group_id=self.sweep_id, source=self.source,
                                       tags=[TAG_PREFIX + self.sweep_id, "sweep", "tpe"])
        self.run_ids.append(run_id)
        assert self._pool is not None
        with local.spawning(self.workers):  # a worker process may start now: its BLAS share, no __main__ re-run
            future = self._pool.submit(_run_trial, str(self.store.path), run_id, config.to_json(), slot,
                                       self.spec.tpe.pruner.value if self.spec.tpe else "")
        return _Running(trial, run_id, slot, future)

    def _observe(self, running: Mapping[int, _Running]) -> None:
        """Report each new epoch to its trial; raise the flag of a trial the pruner stops."""
        epochs = self.store.get_epochs_of(list(running))
        for e in epochs:
            item = running[int(e["run_id"])]
            if int(e["epoch"]) <= item.reported:
                continue
            value = _epoch_value(e)
            item.reported = int(e["epoch"])
            if value is not None:
                item.values.append(value)
                item.trial.report(value, item.reported)
                if not item.pruned and item.trial.should_prune():
                    item.pruned = True
                    self._flags[item.slot] = 1
            self._acked[item.slot] = item.reported  # after the flag: the worker goes on only once it is set

    def _finish(self, study: Any, item: _Running) -> None:
        """Tell the study how the trial ended (after the last epochs are reported)."""
        import optuna

        self._observe({item.run_id: item})
        crash = item.future.exception()
        if crash is not None and self.store.get_run(item.run_id).status.is_active:  # a worker died under it
            died = isinstance(crash, BrokenProcessPool)
            reason = "a worker process died" if died else f"{type(crash).__name__}: {crash}"
            self.store.set_status(item.run_id, RunStatus.FAILED, reason)
        status = self.store.get_run(item.run_id).status
        if status == RunStatus.PRUNED:
            study.tell(item.trial, state=optuna.trial.TrialState.PRUNED)
        elif item.values and status in (RunStatus.FINISHED, RunStatus.DIVERGED):
            study.tell(item.trial, max(item.values))
        else:
            study.tell(item.trial, state=optuna.trial.TrialState.FAIL)


def _epoch_value(epoch: Mapping[str, Any]) -> float | None:
    value = epoch.get(PRUNE_COLUMN)
    return None if value is None else float(value)


# ---------------------------------------------------------------------- in the worker process
_worker: dict = {}


class _TrialFlag:
    """The stop flag of one trial: set by the sweep's stop, or by this trial's prune flag."""

    def __init__(self, stop: Any, flags: Any, slot: int):
        self.stop, self.flags, self.slot = stop, flags, slot

    def is_set(self) -> bool:
        return bool(self.stop.is_set() or self.flags[self.slot])

    def set(self) -> None:
        self.flags[self.slot] = 1

    def clear(self) -> None:
        self.flags[self.slot] = 0

    @property
    def pruned(self) -> bool:
        return bool(self.flags[self.slot]) and not self.stop.is_set()


class _AwaitDecision(Callback):
    """Worker callback: after an epoch is stored, wait until the driver has judged it (or ACK_TIMEOUT)."""

    def __init__(self, switch: _TrialFlag, acked: Any):
        self.switch, self.acked = switch, acked

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        deadline = time.monotonic() + ACK_TIMEOUT
        while self.acked[self.switch.slot] < epoch and not self.switch.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)


def _init_worker(stop_event: Any, flags: Any, acked: Any) -> None:
    local._init_worker(stop_event)
    _worker["flags"], _worker["acked"] = flags, acked


def _run_trial(store_path: str, run_id: int, config_json: str, slot: int, pruner: str) -> TrialOutcome:
    """Train one trial; a trial its prune flag stopped ends "pruned", with its finished epochs kept."""
    from experiments.runs.execution import RunControls, execute_run

    store = local._store(store_path)
    switch = _TrialFlag(local._worker["stop"], _worker["flags"], slot)
    if switch.is_set():
        store.set_status(run_id, RunStatus.STOPPED, "the sweep was stopped before this trial started")
        return TrialOutcome(run_id, RunStatus.STOPPED)
    outcome = execute_run(store, run_id, RunConfig.from_json(config_json), controls=RunControls(stop=switch),
                          callbacks=[_AwaitDecision(switch, _worker["acked"])])
    if outcome.status == RunStatus.STOPPED and switch.pruned:
        done = store.get_run(run_id).epochs_done
        message = (f"pruned by the {pruner} pruner after epoch {done}: its validation accuracy was behind the "
                   f"other trials' at that epoch")
        store.set_status(run_id, RunStatus.PRUNED, message)
        return TrialOutcome(run_id, RunStatus.PRUNED, message)
    return outcome_of(outcome)


def outcome_of(outcome: Any) -> TrialOutcome:
    return TrialOutcome(outcome.run_id, outcome.status, outcome.message)
