"""The run store's SQLite schema and the steps that bring an older file up to date.

``PRAGMA user_version`` holds the schema version. A file from a newer version is refused unchanged;
an older one is migrated step by step (see ``RunStore._migrate``).
"""
from __future__ import annotations

SCHEMA_VERSION = 7

# Classroom (issue 24): the teacher's roster of personal sign-in codes, kept only as salted scrypt hashes
# (experiments/store/roster.py), and the one random key that signs the "remember me" token of a sign-in.
ROSTER_TABLES = """
CREATE TABLE roster (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     TEXT NOT NULL UNIQUE,
    salt     BLOB NOT NULL,
    digest   BLOB NOT NULL,
    created  TEXT NOT NULL,
    revoked  TEXT
);
CREATE TABLE signin_key (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    key  BLOB NOT NULL
)"""

# Classroom (issue 24): the teacher's settings for the class, one row per setting (experiments/store/classroom.py).
CLASS_SETTINGS_TABLE = """
CREATE TABLE class_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)"""

# Classroom (issue 16): a student's prediction for an exercise, stored before its runs are queued.
PREDICTIONS_TABLE = """
CREATE TABLE predictions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    student   TEXT NOT NULL,
    exercise  TEXT NOT NULL,
    created   TEXT NOT NULL,
    answer    TEXT NOT NULL,
    group_id  TEXT
);
CREATE INDEX predictions_student ON predictions(student, exercise);
"""

# Within-epoch points (nn.batch_curve) and per-layer dynamics (nn.dynamics); the histograms as JSON
# ({"weights": {"lo", "hi", "counts"}, ...}) since their bins are only ever read together.
DYNAMICS_TABLES = (
    """CREATE TABLE batch_points (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL, batch INTEGER NOT NULL, x REAL NOT NULL,
    loss REAL, acc REAL, l2_penalty REAL,
    PRIMARY KEY (run_id, epoch, batch)
)""",
    """CREATE TABLE layer_stats (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL, layer INTEGER NOT NULL,
    weight_norm REAL, grad_norm REAL, update_ratio REAL, dead_fraction REAL, saturated_fraction REAL,
    histograms TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, epoch, layer)
)""",
)

SCHEMA = """
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    created       TEXT NOT NULL,
    config        TEXT NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '[]',
    group_id      TEXT,
    source        TEXT NOT NULL DEFAULT '',
    owner         TEXT NOT NULL DEFAULT '',
    epochs_done   INTEGER NOT NULL DEFAULT 0,
    train_loss    REAL, train_acc REAL, test_loss REAL, test_acc REAL,
    best_test_acc REAL,
    seconds       REAL,
    val_loss REAL, val_acc REAL,
    best_epoch INTEGER, best_val_loss REAL, best_val_acc REAL,
    train_loss_at_best REAL, train_acc_at_best REAL, test_loss_at_best REAL, test_acc_at_best REAL,
    student       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_group ON runs(group_id);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch  INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, seconds REAL, elapsed REAL,
    lr REAL, majority_fraction REAL, dead_fraction REAL, full_train_loss REAL, full_train_acc REAL,
    val_loss REAL, val_acc REAL, l2_penalty REAL,
    PRIMARY KEY (run_id, epoch)
);
""" + "".join(f"{table};" for table in DYNAMICS_TABLES) + ";".join((PREDICTIONS_TABLE, CLASS_SETTINGS_TABLE,
                                                                    ROSTER_TABLES))
MIGRATIONS: dict[int, str] = {  # from version N to N+1: SQL to run; add an entry with each schema change
    1: "ALTER TABLE epochs ADD COLUMN full_train_loss REAL; ALTER TABLE epochs ADD COLUMN full_train_acc REAL",
    # the validation split: per-epoch val metrics; per run the last epoch's and the best epoch with its metrics
    2: "; ".join([*(f"ALTER TABLE epochs ADD COLUMN {c} REAL" for c in ("val_loss", "val_acc")),
                  "ALTER TABLE runs ADD COLUMN best_epoch INTEGER",
                  *(f"ALTER TABLE runs ADD COLUMN {c} REAL" for c in (
                      "val_loss", "val_acc", "best_val_loss", "best_val_acc", "train_loss_at_best",
                      "train_acc_at_best", "test_loss_at_best", "test_acc_at_best"))]),
    # losses as cross-entropy with the L2 penalty apart; within-epoch points and per-layer dynamics
    3: "ALTER TABLE epochs ADD COLUMN l2_penalty REAL;" + "".join(f"{table};" for table in DYNAMICS_TABLES),
    # the classroom: the student a run belongs to, and predictions made before an exercise runs
    4: "ALTER TABLE runs ADD COLUMN student TEXT NOT NULL DEFAULT ''; " + PREDICTIONS_TABLE,
    # the class server: the teacher's settings (what students see, budgets per run)
    5: CLASS_SETTINGS_TABLE,
    # the class server's sign-in: the roster of personal codes (hashed) and the key that signs a sign-in
    6: ROSTER_TABLES,
}
