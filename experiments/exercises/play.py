"""Run an exercise: queue its runs as one seeded group, and read the group's outcome back from the store.

Used by the Exercises page, the teacher's view and the command line (``python -m experiments.exercises.play
[ID ...]`` runs exercises headless and prints what each showed, with a temporary or given RESULTS_DB).
"""
from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass

from experiments import i18n
from experiments.config import RunConfig
from experiments.exercises.judge import Outcome, outcome
from experiments.exercises.spec import Exercise, load_all
from experiments.i18n import _
from experiments.runs.runner import RunManager, runs_at_once
from experiments.store import RunStore, StoreError
from experiments.store.records import RunRecord

SOURCE = "exercise"


def exercise_tag(exercise_id: str) -> str:
    """The tag every run of an exercise carries (the teacher's view finds the class's runs by it)."""
    return f"exercise:{exercise_id}"[:40]


def link_run_problem(exercise: Exercise, config: RunConfig) -> str:
    """Why a run queued from the exercise's "try it yourself" link may not carry its tag ("" when it may):
    the link's locked settings must keep the exercise's values, or the leaderboard would rank any network
    (the controls are disabled on the page, but an edited address or a forged request is not a page)."""
    base = exercise.lines[0].config
    changed = [name for name in exercise.locked if getattr(config, name) != getattr(base, name)]
    if not changed:
        return ""
    return _("the exercise {id} keeps {names} as it set them ({values})").format(
        id=exercise.id, names=", ".join(changed), values=", ".join(f"{n}={getattr(base, n)!r}" for n in changed))


def queue_exercise(manager: RunManager, exercise: Exercise, student: str = "") -> tuple[str, list[int]]:
    """Queue every (line, seed) run of the exercise as one group; returns the group id and the run ids.

    All or nothing: if the queue fills up part way (QueueFullError), the runs already queued for this group
    are stopped before the error goes up, so a half group is never taken for the exercise's result.
    """
    group_id = f"ex-{uuid.uuid4().hex[:12]}"
    ids: list[int] = []
    try:
        for line in exercise.lines:
            for seed in exercise.seeds:
                name = _("{exercise}: {label}, seed {seed}").format(exercise=exercise.id, label=line.label, seed=seed)
                ids.append(manager.submit(line.config.replace(seed=seed), name,
                                          group_id, SOURCE, tags=(exercise_tag(exercise.id),), student=student))
    except StoreError as exc:
        for run_id in ids:
            manager.stop(run_id)
        raise StoreError(_("the exercise was not queued: {reason}").format(reason=exc)) from None
    return group_id, ids


@dataclass(frozen=True)
class GroupState:
    """Where an exercise's group of runs is: how many ended, and the outcome once all have."""

    runs: list[RunRecord]
    ended: int
    result: Outcome | None

    @property
    def done(self) -> bool:
        return bool(self.runs) and self.ended == len(self.runs)


def group_state(store: RunStore, exercise: Exercise, group_id: str) -> GroupState:
    """The group's runs and, when every one has ended, the outcome."""
    runs = store.search_runs(group_id=group_id, order_by="id", descending=False)
    ended = sum(1 for r in runs if not r.status.is_active)
    if not runs or ended < len(runs):
        return GroupState(runs, ended, None)
    epochs = {r.id: store.get_epochs(r.id) for r in runs}
    return GroupState(runs, ended, outcome(exercise, runs, epochs))


def main(argv: list[str] | None = None) -> None:
    """Run exercises headless and print each line's result and the verdict (``--lang es``: in Spanish)."""
    rest = i18n.choose_command_line_language(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m experiments.exercises.play",
                                     description=_("Run exercises headless, with their seeds, and print what each "
                                                   "showed: each line's result and the verdict."))
    parser.add_argument("ids", nargs="*", help=_("exercise ids (file names without .toml); default all"))
    i18n.add_language_option(parser)
    args = parser.parse_args(rest)
    exercises, errors = load_all()
    for line in errors:
        print(line)
    store = RunStore()
    manager = RunManager(store, max_concurrent=runs_at_once())
    for exercise in (e for e in exercises if not args.ids or e.id in args.ids):
        group_id, ids = queue_exercise(manager, exercise)
        manager.wait(ids)
        state = group_state(store, exercise, group_id)
        print(f"{exercise.id}: " + "; ".join(f"{r.label} {r.spread.text(exercise.percent)}"
                                             for r in (state.result.lines if state.result else [])))
        if state.result and state.result.verdict:
            print(f"    {state.result.verdict.text}")


if __name__ == "__main__":
    main()
