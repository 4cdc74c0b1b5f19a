"""The words for a reproduction's outcome: what the table cells, the verdict sentences and the flip note say.

``outcomes`` computes data (``ClaimOutcome``, verdicts, numbers); this module is the one place that turns
it into text, shared by the HTML page, the command line and the dashboard's Report page, so they say the
same thing in plain words, in the current language (``experiments.i18n``).
"""
from __future__ import annotations

from experiments.analysis import stats
from experiments.i18n import N_, _, decimal, ngettext, whole
from experiments.report.outcomes import ClaimOutcome, Outcome
from experiments.report.presets import VARIANT_NAMES, line_name


def __getattr__(name: str) -> str:
    """``VERDICT_TEST`` (what a comparison's verdict tests), read in the current language each time."""
    if name == "VERDICT_TEST":
        # One number per seed at an epoch fixed in advance (the report's).
        return stats.test_name(_("each seed's test accuracy at the epoch the report reads its number (fixed in "
                                 "advance, not chosen on these numbers)"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The tables below are in English (the catalog's msgids); the functions read them translated.
# Short form, for a table cell: "the report's conclusion ..."
OUTCOME_LABEL = {
    ClaimOutcome.HOLDS: N_("holds"),
    ClaimOutcome.REVERSED: N_("does not hold (reversed)"),
    ClaimOutcome.NOT_SHOWN: N_("not shown (within seed noise)"),
    ClaimOutcome.PARTLY: N_("partly holds"),
    ClaimOutcome.UNKNOWN: N_("cannot tell yet"),
}

# A whole sentence about our runs.
OUTCOME_SENTENCE = {
    ClaimOutcome.HOLDS: N_("the report's conclusion holds for our runs"),
    ClaimOutcome.REVERSED: N_("the report's conclusion does not hold for our runs: they show the opposite"),
    ClaimOutcome.NOT_SHOWN: N_("our runs do not show the report's conclusion: the difference is within seed noise"),
    ClaimOutcome.PARTLY: N_("the report's conclusion holds only in part for our runs"),
    ClaimOutcome.UNKNOWN: N_("our runs cannot tell whether the report's conclusion holds"),
}

# The clause used when the two variants disagree: "it ... for the correct network".
_FLIP_CLAUSE = {
    ClaimOutcome.HOLDS: N_("holds"),
    ClaimOutcome.REVERSED: N_("is reversed"),
    ClaimOutcome.NOT_SHOWN: N_("is not shown (within seed noise)"),
    ClaimOutcome.PARTLY: N_("only partly holds"),
}


def variant_name(variant: str) -> str:
    """A gradient convention's name ("correct network" ...) in the current language."""
    return _(VARIANT_NAMES[variant])


def waiting_text(n: int) -> str:
    """"waiting for N runs": why there is no verdict yet while runs are still training."""
    return ngettext("waiting for {n} run", "waiting for {n} runs", n).format(n=n)


FULL_TRAIN_SET = 60_000  # MNIST's training images: what the report trained on


def protocol_note(train_size: int, epochs_scale: float) -> str:
    """What stored runs of a reproduction really did, in one sentence: on how many training images and at
    what length; for a reduced one, that its numbers cannot be set against the report's (5,000 images for a
    tenth of the epochs leave a slow learning rate far below the report's accuracy: that is the reduction,
    not a finding). ``train_size`` 0 is the whole training set."""
    reduced_images = bool(train_size and train_size < FULL_TRAIN_SET)
    images = (_("the first {n} training images only").format(n=whole(train_size)) if reduced_images
              else _("all {n} training images").format(n=whole(FULL_TRAIN_SET)))
    length = (_("the report's epoch counts") if epochs_scale == 1
              else _("every epoch count × {scale}").format(scale=f"{epochs_scale:g}"))
    if not reduced_images and epochs_scale == 1:
        return _("These runs trained on {images} with {length}, no validation set: comparable with the "
                 "report.").format(images=images, length=length)
    return _("Reduced reproduction: these runs trained on {images}, with {length} (the labels name the epochs "
             "trained; the report's numbers stay at its own). Not comparable with the report's numbers: fewer "
             "images or epochs leave every line lower, a slow learning rate most of all.").format(
        images=images, length=length)


BOTH_DIVERGED_LABEL = N_("cannot tell: both sides diverged")
BOTH_DIVERGED_SENTENCE = N_("our runs cannot tell whether the report's conclusion holds: both sides diverged on "
                            "every seed, so neither network learned anything to compare")


def status_label(o: Outcome) -> str:
    """The table cell for ``o``: how its conclusion fares, or that it is not reproduced yet (or waiting)."""
    if not o.complete:
        return waiting_text(len(o.waiting)) if o.waiting else _("not reproduced yet")
    return _(BOTH_DIVERGED_LABEL if o.status is ClaimOutcome.UNKNOWN and o.both_diverged else OUTCOME_LABEL[o.status])


def evidence(o: Outcome) -> str:
    """Our numbers behind the verdict: each claim's two lines, test accuracy at the read epoch over seeds,
    the test."""
    parts = []
    for c in o.claims:
        better, worse = o.line(c.claim.better), o.line(c.claim.worse)
        v = c.verdict
        numbers = ""
        if v.p is not None:
            numbers = _(", {p}, d = {d}, n = {a} and {b}").format(
                p=stats.format_p(v.p), d=decimal(v.effect_size or 0.0, 1), a=v.n_a, b=v.n_b)
        parts.append(_("{better} {better_value} vs {worse_value} {worse} ({verdict}{numbers})").format(
            better=line_name(c.claim.better), better_value=better.text("final_test"),
            worse_value=worse.text("final_test"),
            worse=line_name(c.claim.worse), verdict=v.kind.text, numbers=numbers))
    return "; ".join(parts)


def duplicates_note(o: Outcome) -> str:
    """One sentence when runs repeating a (settings, seed) were left out, else ""."""
    ids = o.duplicates
    if not ids:
        return ""
    which = ", ".join(f"#{i}" for i in ids)
    return ngettext("Run {ids} repeats the settings and seed of another run (queued twice) and is not counted again.",
                    "Runs {ids} repeat the settings and seed of another run (queued twice) and are not counted again.",
                    len(ids)).format(ids=which)


def verdict_sentence(o: Outcome) -> str:
    """The sentence about ``o`` without its name: how the conclusion fares, on which numbers."""
    undecidable = o.status is ClaimOutcome.UNKNOWN and o.both_diverged
    said = _(BOTH_DIVERGED_SENTENCE if undecidable else OUTCOME_SENTENCE[o.status])
    text = _("{said}. Ours on test: {evidence}").format(said=said, evidence=evidence(o))
    note = duplicates_note(o)
    return f"{text}. {note}" if note else text


def verdict_line(o: Outcome) -> str:
    """One line: does the report's conclusion hold for this variant of our network, on what numbers."""
    c = o.comparison
    name = c.id if c.variant == "mean" else f"{c.id} ({variant_name(c.variant)})"
    if o.waiting:
        return _("{name}: no verdict yet, {waiting} to reach their epochs").format(
            name=name, waiting=waiting_text(len(o.waiting)))
    if not o.complete:
        return _("{name}: not reproduced yet (run: {command})").format(
            name=name, command=f"python -m experiments reproduce {c.id} --variant {c.variant}")
    return f"{name}: {verdict_sentence(o)}"


def flip_note(mean: Outcome | None, summed: Outcome | None) -> str:
    """One sentence when the report's conclusion holds under one gradient convention and not the other.

    Empty when either variant is missing, incomplete or undecided, or when both agree.
    """
    if mean is None or summed is None or not (mean.complete and summed.complete):
        return ""
    if ClaimOutcome.UNKNOWN in (mean.status, summed.status) or mean.status is summed.status:
        return ""
    sum_name, mean_name = variant_name("sum"), variant_name("mean")
    a, b = _(_FLIP_CLAUSE[mean.status]), _(_FLIP_CLAUSE[summed.status])
    if summed.status is ClaimOutcome.HOLDS:
        return _("The conclusion flips with the gradient convention: it holds {sum_name} (gradient summed over the "
                 "batch, an effective learning rate of lr x batch size) but {mean_clause} for the {mean_name}.").format(
            sum_name=sum_name, mean_clause=a, mean_name=mean_name)
    if mean.status is ClaimOutcome.HOLDS:
        return _("The conclusion flips with the gradient convention: it holds for the {mean_name} but {sum_clause} "
                 "{sum_name} (gradient summed over the batch).").format(
            mean_name=mean_name, sum_clause=b, sum_name=sum_name)
    return _("The verdict changes with the gradient convention: it {mean_clause} for the {mean_name} and "
             "{sum_clause} {sum_name} (gradient summed over the batch).").format(
        mean_clause=a, mean_name=mean_name, sum_clause=b, sum_name=sum_name)
