"""The words for a reproduction's outcome: what the table cells, the verdict sentences and the flip note say.

``outcomes`` computes data (``ClaimOutcome``, verdicts, numbers); this module is the one place that turns
it into text, shared by the HTML page, the command line and the dashboard's Report page, so they say the
same thing in plain English.
"""
from __future__ import annotations

from experiments.analysis import stats
from experiments.report.outcomes import ClaimOutcome, Outcome
from experiments.report.presets import VARIANT_NAMES

# What a comparison's verdict tests: one number per seed at an epoch fixed in advance (the report's).
VERDICT_TEST = stats.test_name("each seed's test accuracy at the epoch the report reads its number (fixed in "
                               "advance, not chosen on these numbers)")

# Short form, for a table cell: "the report's conclusion ..."
OUTCOME_LABEL = {
    ClaimOutcome.HOLDS: "holds",
    ClaimOutcome.REVERSED: "does not hold (reversed)",
    ClaimOutcome.NOT_SHOWN: "not shown (within seed noise)",
    ClaimOutcome.PARTLY: "partly holds",
    ClaimOutcome.UNKNOWN: "cannot tell yet",
}

# A whole sentence about our runs.
OUTCOME_SENTENCE = {
    ClaimOutcome.HOLDS: "the report's conclusion holds for our runs",
    ClaimOutcome.REVERSED: "the report's conclusion does not hold for our runs: they show the opposite",
    ClaimOutcome.NOT_SHOWN: "our runs do not show the report's conclusion: the difference is within seed noise",
    ClaimOutcome.PARTLY: "the report's conclusion holds only in part for our runs",
    ClaimOutcome.UNKNOWN: "our runs cannot tell whether the report's conclusion holds",
}

# The clause used when the two variants disagree: "it ... for the correct network".
_FLIP_CLAUSE = {
    ClaimOutcome.HOLDS: "holds",
    ClaimOutcome.REVERSED: "is reversed",
    ClaimOutcome.NOT_SHOWN: "is not shown (within seed noise)",
    ClaimOutcome.PARTLY: "only partly holds",
}


def waiting_text(n: int) -> str:
    """"waiting for N runs": why there is no verdict yet while runs are still training."""
    return f"waiting for {n} run{'s' if n != 1 else ''}"


FULL_TRAIN_SET = 60_000  # MNIST's training images: what the report trained on


def protocol_note(train_size: int, epochs_scale: float) -> str:
    """What stored runs of a reproduction really did, in one sentence: on how many training images and at
    what length; for a reduced one, that its numbers cannot be set against the report's (5,000 images for a
    tenth of the epochs leave a slow learning rate far below the report's accuracy: that is the reduction,
    not a finding). ``train_size`` 0 is the whole training set."""
    images = (f"the first {train_size:,} training images only" if train_size and train_size < FULL_TRAIN_SET
              else f"all {FULL_TRAIN_SET:,} training images")
    length = "the report's epoch counts" if epochs_scale == 1 else f"every epoch count × {epochs_scale:g}"
    if images.startswith("all") and epochs_scale == 1:
        return f"These runs trained on {images} with {length}, no validation set: comparable with the report."
    return (f"Reduced reproduction: these runs trained on {images}, with {length} (the labels name the epochs "
            f"trained; the report's numbers stay at its own). Not comparable with the report's numbers: fewer "
            f"images or epochs leave every line lower, a slow learning rate most of all.")


BOTH_DIVERGED_LABEL = "cannot tell: both sides diverged"
BOTH_DIVERGED_SENTENCE = ("our runs cannot tell whether the report's conclusion holds: both sides diverged on every "
                          "seed, so neither network learned anything to compare")


def status_label(o: Outcome) -> str:
    """The table cell for ``o``: how its conclusion fares, or that it is not reproduced yet (or waiting)."""
    if not o.complete:
        return waiting_text(len(o.waiting)) if o.waiting else "not reproduced yet"
    return BOTH_DIVERGED_LABEL if o.status is ClaimOutcome.UNKNOWN and o.both_diverged else OUTCOME_LABEL[o.status]


def evidence(o: Outcome) -> str:
    """Our numbers behind the verdict: each claim's two lines, test accuracy at the read epoch over seeds,
    the test."""
    parts = []
    for c in o.claims:
        better, worse = o.line(c.claim.better), o.line(c.claim.worse)
        v = c.verdict
        numbers = ""
        if v.p is not None:
            numbers = f", {stats.format_p(v.p)}, d = {v.effect_size:.1f}, n = {v.n_a} and {v.n_b}"
        parts.append(f"{c.claim.better} {better.text('final_test')} vs {worse.text('final_test')} {c.claim.worse} "
                     f"({v.kind.text}{numbers})")
    return "; ".join(parts)


def duplicates_note(o: Outcome) -> str:
    """One sentence when runs repeating a (settings, seed) were left out, else ""."""
    ids = o.duplicates
    if not ids:
        return ""
    which = ", ".join(f"#{i}" for i in ids)
    return (f"Run{'s' if len(ids) > 1 else ''} {which} repeat{'' if len(ids) > 1 else 's'} the settings and seed "
            f"of another run (queued twice) and {'are' if len(ids) > 1 else 'is'} not counted again.")


def verdict_sentence(o: Outcome) -> str:
    """The sentence about ``o`` without its name: how the conclusion fares, on which numbers."""
    undecidable = o.status is ClaimOutcome.UNKNOWN and o.both_diverged
    said = BOTH_DIVERGED_SENTENCE if undecidable else OUTCOME_SENTENCE[o.status]
    text = f"{said}. Ours on test: {evidence(o)}"
    note = duplicates_note(o)
    return f"{text}. {note}" if note else text


def verdict_line(o: Outcome) -> str:
    """One line: does the report's conclusion hold for this variant of our network, on what numbers."""
    c = o.comparison
    name = c.id if c.variant == "mean" else f"{c.id} ({c.variant_name})"
    if o.waiting:
        return f"{name}: no verdict yet, {waiting_text(len(o.waiting))} to reach their epochs"
    if not o.complete:
        return f"{name}: not reproduced yet (run: python -m experiments reproduce {c.id} --variant {c.variant})"
    return f"{name}: {verdict_sentence(o)}"


def flip_note(mean: Outcome | None, summed: Outcome | None) -> str:
    """One sentence when the report's conclusion holds under one gradient convention and not the other.

    Empty when either variant is missing, incomplete or undecided, or when both agree.
    """
    if mean is None or summed is None or not (mean.complete and summed.complete):
        return ""
    if ClaimOutcome.UNKNOWN in (mean.status, summed.status) or mean.status is summed.status:
        return ""
    sum_name, mean_name = VARIANT_NAMES["sum"], VARIANT_NAMES["mean"]
    a, b = _FLIP_CLAUSE[mean.status], _FLIP_CLAUSE[summed.status]
    if summed.status is ClaimOutcome.HOLDS:
        return (f"The conclusion flips with the gradient convention: it holds {sum_name} (gradient summed over the "
                f"batch, an effective learning rate of lr x batch size) but {a} for the {mean_name}.")
    if mean.status is ClaimOutcome.HOLDS:
        return (f"The conclusion flips with the gradient convention: it holds for the {mean_name} but {b} "
                f"{sum_name} (gradient summed over the batch).")
    return (f"The verdict changes with the gradient convention: it {a} for the {mean_name} and {b} {sum_name} "
            f"(gradient summed over the batch).")
