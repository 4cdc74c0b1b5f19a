"""The course report's comparisons as named groups of run configs, each line beside the report's number.

A ``Comparison`` is a list of ``Member`` lines: our settings, the epoch at which we read the result, and
the report's own number for that line (its training-set accuracy, in %). Where the report is silent we
chose a value; every such choice is listed in the comparison's ``assumptions`` so the UI can show it.

Runs that differ only in length are trained once: a run with the same settings and seed follows exactly
the same path for its first N epochs whatever its total length (same initialisation, same shuffles, and
none of our optimizers has a schedule), so "Adam for 10, 20, 40, 50 and 100 epochs" is one 100-epoch run
per seed, read at those epochs. ``plan`` does that merging; reproducing everything is 150 epochs per seed.

Every comparison comes in two variants (``VARIANTS``): the "correct network" (the batch gradient
averaged, reduction "mean") and "as the report probably ran it" (the gradient summed over the batch,
i.e. the learning rate multiplied by the batch size). ``variants`` gives both; a variant is
``comparison.with_settings(reduction="sum")``: every member changes, the report's numbers stay.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from experiments.analysis.rounding import rounded
from experiments.config import ConfigError, RunConfig
from experiments.i18n import N_, _, localized, ngettext, percent_sign, whole
from experiments.report import reference_messages
from experiments.report.reference import ReportRun, load_reference

DEFAULT_SEEDS = 3
VARIANTS = ("mean", "sum")    # how the batch gradient is reduced; see nn.MLP.backprop
VARIANT_NAMES = {"mean": N_("correct network"), "sum": N_("as the report probably ran it")}  # translated where shown
VARIANT_CHOICES = ("mean", "sum", "both")

# Where the report is silent: the values we chose (shown to the user through ``assumptions``).
ADAM_LR = 1e-3        # Kingma & Ba's default; the report never gives Adam's learning rate
L2 = 1e-4             # the report uses "L2" without a value; ours adds 0.5 * L2 * sum(W^2) to the mean loss
BATCH_SIZE = 64       # the report's methodology uses 64; several runs do not restate it
PLAIN_LR = 0.1        # "no optimizer" run: its losses (0.86-1.02) track the report's lr=0.1 run, not lr=0.001

# val_size 0: the report trained on all 60,000 training images and held nothing out, so ours do the same to
# stay comparable; its comparisons are read on the test set (the report's protocol, not the one we teach).
BASE = RunConfig(hidden=(128,), activation="relu", optimizer="adam", lr=ADAM_LR, l2=L2, batch_size=BATCH_SIZE,
                 val_size=0)
PLAIN = BASE.replace(optimizer="sgd", lr=PLAIN_LR, l2=0.0)

def __getattr__(name: str) -> tuple[str, ...]:
    """``COMMON_ASSUMPTIONS``: the choices every comparison shares, worded in the current language each time."""
    if name == "COMMON_ASSUMPTIONS":
        return common_assumptions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def common_assumptions() -> tuple[str, ...]:
    """Our choices common to every comparison, in the current language."""
    return (
        _("Accuracies: the report's are on the {n} training images; ours are given on both sets, the training "
          "one measured by a full pass after the epoch (not the running average over the epoch's batches).").format(
            n=whole(60000)),
        _("Protocol: like the report, these runs train on all {n} training images and hold out no validation set, "
          "so their verdicts are read on the test set; to choose settings yourself, use a validation set "
          "instead.").format(n=whole(60000)),
        _("Each line is trained with seeds 0, 1, 2, ... (the seed sets the initial weights and the batch order); "
          "we show the mean ± standard deviation over seeds."),
        _("Each comparison runs twice: 'correct network' averages the batch gradient (reduction 'mean'); 'as the "
          "report probably ran it' sums it over the batch (reduction 'sum'), which multiplies the effective "
          "learning rate by the batch size ({batch_size}). The L2 gradient (L2 * W) is not scaled in "
          "either.").format(batch_size=BATCH_SIZE),
    )


@dataclass(frozen=True)
class Member:
    """One line of a comparison: our settings, the epoch we read, and the report's number for that line."""

    label: str
    config: RunConfig             # seed 0; ``epochs`` is the read epoch (training may run longer, see plan)
    report: ReportRun | None      # the report's run this line reproduces (None: ours only, for contrast)
    report_pct: float | None = None   # the report's headline number (training-set accuracy, %)
    report_what: str = ""         # what that number is, in words (marked N_: shown through _())
    measure: str = "final"        # our value at the read epoch ("final") or the mean over epochs 1..read ("mean")
    report_label: str = ""        # the line's name at the report's length ("" = ``label``: not scaled)
    report_epoch: int = 0         # the epoch the report read (0 = ``read_epoch``: not scaled)

    @property
    def read_epoch(self) -> int:
        return self.config.epochs

    @property
    def report_text(self) -> str:
        """The report's headline number as every table, legend and hover shows it: rounded once, e.g. the
        report's 68.385 is "68.39%" everywhere (Python's "%.2f" gave 68.38 in the text, the chart 68.39)."""
        return percent_sign(rounded(self.report_pct, 2)) if self.report_pct is not None else "-"

    @property
    def reported_label(self) -> str:
        """The line's name as the report gave it (its epoch numbers, whatever length we trained)."""
        return self.report_label or self.label

    @property
    def reported_epoch(self) -> int:
        """The epoch at which the report read this line's number."""
        return self.report_epoch or self.read_epoch

    @property
    def eval_epochs(self) -> tuple[int, ...]:
        """Epochs at which this line needs a full pass over the training set."""
        return tuple(range(1, self.read_epoch + 1)) if self.measure == "mean" else (self.read_epoch,)


@dataclass(frozen=True)
class Claim:
    """What the report concluded, as an ordering of two lines: ``better`` beats ``worse``."""

    better: str
    worse: str
    text: str


@dataclass(frozen=True)
class Comparison:
    """A named comparison of the report, as our run configs plus its numbers and conclusion."""

    id: str
    title: str
    members: tuple[Member, ...]
    conclusion: str               # the report's, verbatim from the reference
    claims: tuple[Claim, ...]
    # our choices where the report is silent, for the user to see: texts marked N_ with {placeholders} filled
    # from ``assumption_values`` (``assumptions`` gives them worded in the current language)
    assumption_templates: tuple[str, ...]
    epochs_scale: float = 1.0     # < 1 for quick demos and tests: every epoch count scaled down

    @property
    def shown_title(self) -> str:
        """The title as a person reads it, in the current language (``title`` stays the report's English)."""
        return reference_messages.shown(self.title)

    @property
    def shown_conclusion(self) -> str:
        """The report's conclusion as a person reads it, in the current language (numbers the language's way)."""
        return reference_messages.shown(self.conclusion)

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Our choices where the report is silent, in the current language."""
        return tuple(_(a).format(**assumption_values()) for a in self.assumption_templates)

    @property
    def variant(self) -> str:
        """"mean" or "sum": how this comparison's runs reduce the batch gradient (see VARIANTS)."""
        return self.members[0].config.reduction

    @property
    def variant_name(self) -> str:
        return VARIANT_NAMES[self.variant]

    def member(self, label: str) -> Member:
        for m in self.members:
            if m.label == label:
                return m
        raise KeyError(_("comparison {id} has no line {label}").format(id=repr(self.id), label=repr(label)))

    def with_settings(self, **changes: Any) -> Comparison:
        """The same comparison with some settings changed on every line (e.g. ``reduction="sum"``)."""
        changes.pop("epochs", None)
        changes.pop("seed", None)
        return replace(self, members=tuple(replace(m, config=m.config.replace(**changes)) for m in self.members))

    def scaled(self, factor: float) -> Comparison:
        """Every read epoch multiplied by ``factor`` (at least 1): a quick, reduced reproduction.

        Labels name the epochs actually trained ("epoch 39" read at epoch 4 becomes "epoch 4"); the claims
        follow, and each line keeps the report's own label and epoch for the report's numbers.
        """
        if factor == 1:
            return self
        if not 0 < factor <= 10:
            raise ConfigError(_("the epochs scale must be in (0, 10] (got {factor})").format(factor=f"{factor:g}"))
        members = [replace(m, config=m.config.replace(epochs=scale_epochs(m.read_epoch, factor)),
                           report_label=m.reported_label, report_epoch=m.reported_epoch) for m in self.members]
        labels = [relabel(m.reported_label, m.reported_epoch, m.read_epoch) for m in members]
        if len(set(labels)) < len(labels):   # two lengths scaled to the same epoch: keep the lines apart
            labels = [lab if lab == m.reported_label else f"{lab} (the report's {m.reported_label})"
                      for lab, m in zip(labels, members)]
        renamed = dict(zip((m.label for m in self.members), labels))
        claims = tuple(replace(c, better=renamed[c.better], worse=renamed[c.worse]) for c in self.claims)
        members = [replace(m, label=lab) for m, lab in zip(members, labels)]
        return replace(self, members=tuple(members), claims=claims, epochs_scale=self.epochs_scale * factor)


def scale_epochs(epochs: int, factor: float) -> int:
    return max(1, int(round(epochs * factor)))


_EPOCH_WORDS = re.compile(r"\bepoch (\d+)\b|\b(\d+) epochs?\b")


def relabel(label: str, old: int, new: int) -> str:
    """``label`` with its epoch count ``old`` replaced by ``new`` ("epoch 39" -> "epoch 4", "50 epochs" ->
    "5 epochs"); other numbers are left alone."""
    def swap(match: re.Match[str]) -> str:
        if int(match.group(1) or match.group(2)) != old:
            return match.group(0)
        return f"epoch {new}" if match.group(1) else f"{new} epoch{'s' if new != 1 else ''}"
    return _EPOCH_WORDS.sub(swap, label)


# ---------------------------------------------------------------------- a line's name as shown
# A line's label is its identity (``Member.label``, claims, ``by_label`` dicts, the report's run labels), written
# in English; ``line_name`` words it in the current language. The words a label may hold are marked below.
_REPORTS_LINE = re.compile(r"^(?P<line>.+) \(the report's (?P<report>.+)\)$")
_OURS_ONLY = " (ours only)"
_NO_OPTIMIZER = "no optimizer"
_EPOCH = re.compile(r"^epoch (?P<n>\d+)$")
_EPOCHS = re.compile(r"^(?P<n>\d+) epochs?$")
_NEURONS = re.compile(r"^(?P<n>\d+) neurons?$")


def line_name(label: str) -> str:
    """A line's label as a person reads it, in the current language: "epoch 39" -> "época 39", "50 epochs" ->
    "50 épocas", "64 neurons" -> "64 neuronas", "no optimizer" -> "sin optimizador", "X (ours only)", "X (the
    report's Y)" (each side worded again); code-like parts ("lr=0.1", "Adam + L2", "784-128-64-10") unchanged.
    English reads as the label itself."""
    scaled = _REPORTS_LINE.match(label)
    if scaled:
        return _("{line} (the report's {report_line})").format(line=line_name(scaled["line"]),
                                                               report_line=line_name(scaled["report"]))
    return ", ".join(_part_name(part) for part in label.split(", "))


def _part_name(part: str) -> str:
    """One comma-separated part of a label, worded (see ``line_name``)."""
    if part.endswith(_OURS_ONLY):
        return _("{line} (ours only)").format(line=_part_name(part[:-len(_OURS_ONLY)]))
    if part == _NO_OPTIMIZER:
        return _("no optimizer")
    if match := _EPOCH.match(part):
        return _("epoch {n}").format(n=int(match["n"]))
    if match := _EPOCHS.match(part):
        n = int(match["n"])
        return ngettext("{n} epoch", "{n} epochs", n).format(n=n)
    if match := _NEURONS.match(part):
        n = int(match["n"])
        return ngettext("{n} neuron", "{n} neurons", n).format(n=n)
    return part


# ---------------------------------------------------------------------- the report's comparisons
def _comparisons() -> tuple[Comparison, ...]:
    """The report's six comparisons as presets. Long: one literal table of data, clearer kept together."""
    ref = load_reference()
    lr, opt, long_, second, width, sweep = (ref.comparison(i) for i in (
        "learning-rate", "optimizer", "long-training", "second-hidden-layer", "second-layer-width", "epochs"))
    two = PLAIN.replace(hidden=(128, 64))
    final = N_("final training accuracy")
    long_run = long_.runs[0]
    return (
        Comparison(
            lr.id, lr.title,
            (Member("lr=0.1", PLAIN.replace(lr=0.1, epochs=20), lr.run("lr=0.1"),
                    lr.run("lr=0.1").final_train_accuracy_pct, final),
             Member("lr=0.001", PLAIN.replace(lr=0.001, epochs=10), lr.run("lr=0.001"),
                    lr.run("lr=0.001").final_train_accuracy_pct, final)),
            lr.conclusion,
            (Claim("lr=0.001", "lr=0.1", N_("lr 0.001 beats lr 0.1")),),
            (N_("Batch size {batch} (these runs do not state it; the report's method uses {batch})."),
             N_("Plain mini-batch gradient descent is our 'sgd' optimizer, no L2."),
             N_("As in the report, lr=0.1 runs 20 epochs and lr=0.001 runs 10; each is read at its last epoch."))),
        Comparison(
            opt.id, opt.title,
            (Member("Adam + L2", BASE.replace(epochs=10), opt.run("Adam + L2"),
                    opt.run("Adam + L2").final_train_accuracy_pct, final),
             Member("no optimizer", PLAIN.replace(epochs=10), opt.run("no optimizer"),
                    opt.run("no optimizer").final_train_accuracy_pct, final)),
            opt.conclusion,
            (Claim("Adam + L2", "no optimizer", N_("Adam + L2 beats plain gradient descent")),),
            (N_("Adam's learning rate {adam_lr} (not given; the usual default)."),
             N_("L2 = {l2} (the report uses L2 without a value); penalty 0.5 * L2 * sum of squared weights."),
             N_("'No optimizer' = plain gradient descent with lr {plain_lr} (not given; its printed losses "
                "track the report's lr=0.1 run), no L2."),
             N_("Batch size {batch} for both (not restated)."))),
        Comparison(
            long_.id, long_.title,
            (Member("epoch 1", BASE.replace(epochs=1), long_run, long_run.train_accuracy_pct[0],
                    N_("training accuracy after epoch 1")),
             Member("epoch 39", BASE.replace(epochs=len(long_run.train_accuracy_pct)), long_run,
                    long_run.train_accuracy_pct[-1], N_("training accuracy after epoch 39 (the last it printed)"))),
            long_.conclusion,
            (Claim("epoch 1", "epoch 39",
                   N_("training longer did not help: 75.41% after epoch 1, 64.56% after 39")),),
            (N_("The base network: Adam lr {adam_lr}, L2 {l2}, batch {batch} (the report says only 'with "
                "the optimizer' and does not give these values)."),
             N_("The report printed 39 of its 40 epochs (peak {peak}% by its text); we read epochs 1 and 39 of the "
                "same runs as the epochs comparison."))),
        Comparison(
            second.id, second.title,
            (Member("784-128-64-10, epoch 1", two.replace(epochs=1), second.runs[0],
                    second.runs[0].first_epoch_train_accuracy_pct, N_("training accuracy after epoch 1")),
             Member("784-128-64-10, epoch 10", two.replace(epochs=10), second.runs[0],
                    second.runs[0].final_train_accuracy_pct, final),
             Member("784-128-10 (ours only), epoch 10", PLAIN.replace(epochs=10), None)),
            second.conclusion,
            (Claim("784-128-64-10, epoch 10", "784-128-10 (ours only), epoch 10",
                   N_("the second hidden layer learns faster than the one-layer network")),),
            (N_("Optimizer: plain gradient descent (the report does not say; it raises 'the learning rate' to 0.1, "
                "continuing its runs without an optimizer), no L2."),
             N_("For contrast we add the one-hidden-layer network with the same settings (no report number): the "
                "report credits the second layer for a jump that batch 64 and lr 0.1 may explain alone."))),
        Comparison(
            width.id, width.title,
            (Member("64 neurons", two.replace(epochs=10), width.run("64 neurons"),
                    width.run("64 neurons").mean_train_accuracy_pct, N_("mean training accuracy over the 10 epochs"),
                    "mean"),
             Member("96 neurons", two.replace(hidden=(128, 96), epochs=10), width.run("96 neurons"),
                    width.run("96 neurons").mean_train_accuracy_pct, N_("mean training accuracy over the 10 epochs"),
                    "mean")),
            width.conclusion,
            (Claim("96 neurons", "64 neurons", N_("96 neurons beat 64")),),
            (N_("Optimizer: plain gradient descent, lr 0.1, no L2 (the report does not say; as in the "
                "second-hidden-layer comparison)."),
             N_("The report compares means over the 10 epochs, from one run each; ours are the same mean (a full "
                "training-set pass after every epoch), and the seed verdict uses the final test accuracy."))),
        Comparison(
            sweep.id, sweep.title,
            tuple(Member(r.label, BASE.replace(epochs=r.epochs), r, r.final_train_accuracy_pct,
                         final if r.final_train_accuracy_pct is not None else "")
                  for r in sweep.runs),
            sweep.conclusion,
            (Claim("50 epochs", "10 epochs", N_("50 epochs beat 10")),
             Claim("50 epochs", "100 epochs", N_("50 epochs are best: 100 do not beat them"))),
            (N_("The base network: Adam lr {adam_lr}, L2 {l2}, batch {batch} (the report gives neither value)."),
             N_("One 100-epoch run per seed, read at epochs 10, 20, 50 and 100: identical to separate runs of those "
                "lengths, at half the cost."))),
    )


def assumption_values() -> dict[str, str]:
    """The values our choices' texts name (``Comparison.assumption_templates``' {placeholders})."""
    peak = load_reference().comparison("long-training").runs[0].peak_train_accuracy_pct
    return {"batch": str(BATCH_SIZE), "adam_lr": f"{ADAM_LR:g}", "l2": f"{L2:g}", "plain_lr": f"{PLAIN_LR:g}",
            "peak": localized(f"{peak:g}")}  # a result the report printed: the language's decimal mark


COMPARISONS: tuple[Comparison, ...] = _comparisons()
COMPARISON_IDS: tuple[str, ...] = tuple(c.id for c in COMPARISONS)


def get_comparison(comparison_id: str) -> Comparison:
    for c in COMPARISONS:
        if c.id == comparison_id:
            return c
    raise KeyError(_("no comparison {id}; choose one of {ids}").format(id=repr(comparison_id),
                                                                        ids=", ".join(COMPARISON_IDS)))


def select(names: Iterable[str] | str | None) -> list[Comparison]:
    """Comparisons by id (``None``, ``"all"`` or an empty list: all of them), refusing unknown ids."""
    if names is None or names == "all":
        return list(COMPARISONS)
    names = [names] if isinstance(names, str) else list(names)
    if not names or "all" in names:
        return list(COMPARISONS)
    return [get_comparison(n) for n in names]


def variants(comparisons: Iterable[Comparison], which: str = "both") -> list[Comparison]:
    """``comparisons`` in the chosen variant(s): "mean", "sum" or "both" (each mean one, then its sum one)."""
    if which not in VARIANT_CHOICES:
        raise ConfigError(_("variant must be one of {choices} (got {value})").format(
            choices=", ".join(VARIANT_CHOICES), value=repr(which)))
    chosen = VARIANTS if which == "both" else (which,)
    return [c.with_settings(reduction=v) for c in comparisons for v in chosen]


# ---------------------------------------------------------------------- planning the runs
def training_key(config: RunConfig) -> str:
    """Settings that decide a training's path, except its length, seed and data (folder, reduced size)."""
    return config.replace(epochs=1, seed=0, data_dir="", train_size=0).to_json()


@dataclass
class PlannedRun:
    """One training to queue: its config (with seed and full length), a name, and where it is read."""

    config: RunConfig
    name: str
    comparisons: list[str] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        return ["report", *(f"report:{c}" for c in self.comparisons)]


def plan(comparisons: Sequence[Comparison], seeds: int = DEFAULT_SEEDS) -> list[PlannedRun]:
    """The trainings that reproduce ``comparisons``: one per distinct setting and seed, longest first.

    Lines that differ only in epochs share one training as long as the longest of them.
    """
    if not 1 <= int(seeds) <= 20:
        raise ConfigError(_("seeds must be from 1 to 20 (got {seeds})").format(seeds=seeds))
    by_key: dict[str, PlannedRun] = {}
    for comparison in comparisons:
        for m in comparison.members:
            run = by_key.setdefault(training_key(m.config), PlannedRun(m.config, m.label))
            if m.read_epoch > run.config.epochs:
                run.config, run.name = m.config, m.label
            if comparison.id not in run.comparisons:
                run.comparisons.append(comparison.id)
            run.eval_epochs = sorted(set(run.eval_epochs) | set(m.eval_epochs))
    out = []
    for seed in range(int(seeds)):
        for r in by_key.values():
            c = r.config
            grad = ", grad=sum" if c.reduction == "sum" else ""
            name = (f"report: {c.architecture} {c.optimizer} lr={c.lr:g} L2={c.l2:g}{grad}, {c.epochs} epochs, "
                    f"seed {seed}")
            out.append(PlannedRun(c.replace(seed=seed), name, list(r.comparisons), list(r.eval_epochs)))
    # Longest first, so that parallel workers finish together; then by seed.
    return sorted(out, key=lambda p: (-p.config.epochs, p.config.seed))


def total_epochs(planned: Sequence[PlannedRun]) -> int:
    return sum(p.config.epochs for p in planned)
