"""The product's caps and offered values: the only place where they are set.

The dashboard, the command line, sweeps and the store all go through RunConfig, which checks these.
"""
from __future__ import annotations

MAX_WIDTH = 4096          # units in one hidden layer
MAX_DEPTH = 8             # hidden layers
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 60000
MAX_TRAIN_SIZE = 60000    # the MNIST training set
MAX_VAL_SIZE = MAX_TRAIN_SIZE - 1  # validation images held out of it (at least one must be left to train on)
MAX_MIN_DELTA = 1.0       # early stopping's least improvement (a loss or an accuracy)
MAX_LR = 10.0
MAX_L2 = 1.0
MAX_SEED = 2**32 - 1
MAX_TRIALS = 200          # trials in one sweep (experiments/sweeps/spec.py)
MAX_QUEUED = 100          # runs one student (or the laptop's user) may have waiting in a run manager's queue
DTYPES = ("float32", "float64")
MONITORS = ("off", "val_loss", "val_acc")      # early stopping: off, or the validation metric it watches
INITS = ("auto", "he", "glorot", "small")    # auto: he for relu, glorot for sigmoid and tanh

# Values offered by the dashboard's log-scale sliders: 1, 2, 3, 5 per decade for the learning rate,
# 1 and 3 per decade for L2 (a loaded config with another value gets it added to the slider).
LEARNING_RATES = tuple(sorted({round(m * 10.0 ** e, 12) for e in range(-5, 1) for m in (1, 2, 3, 5)} | {MAX_LR}))
L2_VALUES = (0.0, *sorted({round(m * 10.0 ** e, 12) for e in range(-6, 0) for m in (1, 3)} | {MAX_L2}))
