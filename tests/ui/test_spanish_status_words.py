"""Words the pages take from stored data or from other threads, in Spanish (AppTest, ``?lang=es``): the runs'
statuses (and sources) in table cells, pickers, progress texts and captions (History, Compare, Inspect, Sweep), a
sweep's trial counts with their plural forms, the Insights page's importance notes (and a result cached for a
session in another language), and the MNIST folder's refusal worded by the data-loading thread. Each check also
runs on the English page, where it must find the English words, so it can fail."""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from experiments import i18n
from experiments.config import RunConfig
from experiments.store import RunStore
from nn import MLP
from nn.status import RunStatus
from tests.conftest import wait_until
from tests.ui.test_spanish_pages import english_words, main_text

# a run's status as stored (the values of --status), the "at" column's codes and a run's source: never a cell of a
# Spanish page
STATUS_CODES = {s.value for s in RunStatus} | {"best", "last", "dashboard"}
PAGES = {"history": "ui/history_page.py", "compare": "ui/compare_page.py", "inspect": "ui/inspect_page.py",
         "sweep": "ui/sweep_page.py", "insights": "ui/insights_page.py"}


def _log(store: RunStore, run_id: int, val: float, epochs: int = 2) -> None:
    for epoch in range(1, epochs + 1):
        store.log_epoch(run_id, {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.8, "test_loss": 1.1 / epoch,
                                 "test_acc": val, "val_loss": 1.0 - val + 0.01 * epoch, "val_acc": val - 0.01 / epoch,
                                 "elapsed": 0.5 * epoch})


def _every_status(path: Path) -> list[int]:
    """One run of each status (a queued one without epochs), the first with saved weights; then a sweep of six
    trials over lr with two seeds each (so Insights has a noise floor), finished, pruned and stopped."""
    from experiments.sweeps.local import create_trial_runs
    from experiments.sweeps.spec import expand, new_sweep_id, parse_spec

    store = RunStore(path)
    ids = []
    for i, status in enumerate(RunStatus):
        run_id = store.create_run(RunConfig(hidden=(8,), lr=0.01 * (1 + i % 2), epochs=3, train_size=1000),
                                  name=f"plain {i}", source="dashboard")
        if status is not RunStatus.QUEUED:
            _log(store, run_id, 0.8 + i / 100)
        store.set_status(run_id, status)
        ids.append(run_id)
    finished = next(i for i, s in zip(ids, RunStatus) if s is RunStatus.FINISHED)
    store.weights_path(finished).parent.mkdir(parents=True, exist_ok=True)
    MLP(store.get_run(finished).config.sizes(), seed=0).save(str(store.weights_path(finished)))
    spec = parse_spec({"name": "tasas", "base": {"epochs": 2, "train_size": 1000},
                       "grid": {"lr": [0.1, 0.01, 0.001], "seed": [0, 1]}})
    trials = create_trial_runs(store, spec, expand(spec), new_sweep_id() + "tasas", "cli")
    for k, (run_id, status) in enumerate(zip(trials, ("finished", "finished", "finished", "pruned", "finished",
                                                      "stopped"))):
        _log(store, run_id, 0.7 + k / 40)
        store.set_status(run_id, status)
    store.close()
    return ids + trials


def _open(app, page: str, lang: str, ids: list[int]) -> AppTest:
    at = app(timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def _cells(at: AppTest) -> list[str]:
    """Every cell of every table on the page."""
    found = []
    for table in [*at.main.dataframe, *at.main.table]:
        frame = table.value
        found += [str(v) for column in frame.columns for v in frame[column].tolist()]
    return found


def _status_texts(at: AppTest) -> list[str]:
    """The other places a status is written: pickers' and filters' options, progress texts, texts, captions."""
    texts = [str(o) for kind in ("selectbox", "multiselect") for w in getattr(at.main, kind) for o in w.options]
    texts += [p.proto.text for p in at.main.get("progress")]
    texts += [e.value for kind in ("text", "caption") for e in getattr(at.main, kind)]
    return texts


def _status_codes_in(texts: list[str]) -> set[str]:
    return {w for t in texts for w in re.findall(r"[a-z]+", t) if w in STATUS_CODES}


def test_spanish_tables_pickers_and_progress_show_status_words_not_codes(db, app):
    ids = _every_status(db)
    for page in ("history", "compare", "sweep"):
        spanish = _open(app, page, "es", ids)
        cells = _cells(spanish)
        assert cells, page
        assert not _status_codes_in(cells), (page, _status_codes_in(cells))
        assert {"terminada", "podada"} <= set(cells), (page, cells)
        assert page == "sweep" or "panel" in cells, (page, cells)
        english = _open(app, page, "en", ids)
        assert {"finished", "pruned"} <= _status_codes_in(_cells(english)), page  # the check finds the codes
    for page in ("history", "sweep", "inspect"):
        spanish, english = _open(app, page, "es", ids), _open(app, page, "en", ids)
        assert not _status_codes_in(_status_texts(spanish)), (page, _status_texts(spanish))
        assert _status_codes_in(_status_texts(english)), page


def test_history_filters_by_status_code_whatever_the_words(db, app):
    """The filter's values stay codes (a language switch keeps the choice); its options read as words."""
    ids = _every_status(db)
    at = _open(app, "history", "es", ids)
    status = at.multiselect(key="hist_status")
    assert "podada" in status.options and "pruned" not in status.options
    with i18n.using("es"):  # AppTest words the other pickers' values through their format_func, in this thread
        status.set_value(["pruned"]).run()
    assert status.value == ["pruned"]
    assert set(_cells(at)) >= {"podada"} and not {"terminada", "en cola"} & set(_cells(at))


def test_a_sweep_of_one_trial_reads_in_the_singular(db, app):
    for lang, words in (("en", "**1 trial**"), ("es", "**1 intento**")):
        at = _open(app, "sweep", lang, [])
        for key in ("sw_lr", "sw_batch", "sw_hidden"):
            at.text_input(key=key).set_value("64" if key != "sw_lr" else "0.01").run()
        assert words in [m.value for m in at.markdown], [m.value for m in at.markdown]
    counts = _open(app, "sweep", "es", _every_status(db)).selectbox(key="sw_pick").options[0]
    assert "6 intentos: 4 terminados, 1 podado, 1 detenido" in counts, counts


def test_insights_importance_notes_read_in_the_sessions_language(db, app):
    """With a sweep that has seed replicates (a noise floor): the method's note in Spanish. The English session
    runs first: its result, cached, must not be shown to the Spanish one."""
    ids = _every_status(db)
    english = _open(app, "insights", "en", ids)
    assert any(c.value.startswith("permutation importance") for c in english.caption)
    spanish = _open(app, "insights", "es", ids)
    assert any(c.value.startswith("importancia por permutación") for c in spanish.caption), spanish.caption
    assert not english_words(main_text(spanish)), english_words(main_text(spanish))
    assert " de el " not in main_text(spanish)  # "**6 ejecuciones** (el barrido ...)", not "de el barrido"
    assert english_words(main_text(english))
    verdicts = _cells(spanish)
    assert "mejor" in verdicts and "best" not in verdicts, verdicts


def _mnist_refusal(at: AppTest) -> str:
    """The data banner's error, once the background load has failed (the page reruns until it shows)."""
    def shown() -> str | None:
        at.run()
        return next((e.value for e in at.main.error if "MNIST" in e.value), None)
    return wait_until(shown, 30, "the MNIST refusal on the Train page", every=0.2)


def test_the_mnist_refusal_reads_in_the_language_of_the_session(offline_db, app):
    """MNIST_DIR is an empty folder: the refusal is worded by the data-loading thread, which has no session; each
    session reads it in its own language, whichever session started the load."""
    spanish = app()
    spanish.query_params["lang"] = "es"
    refusal = _mnist_refusal(spanish)
    assert "le falta train-images-idx3-ubyte" in refusal and "lacks" not in refusal, refusal
    english = app()
    english.query_params["lang"] = "en"
    assert "lacks train-images-idx3-ubyte" in _mnist_refusal(english)
