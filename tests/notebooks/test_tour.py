"""notebooks/tour.ipynb and its Spanish twin notebooks/recorrido.ipynb: committed without outputs, and run from
top to bottom on a real Jupyter kernel (nbclient + ipykernel) against the test's own store and the real MNIST:
the first run's chart is one display updated to its last epoch, and the verdict cell prints a verdict; the
Spanish one prints everything in Spanish."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments.store import RunStore
from nn.status import RunStatus
from tests.conftest import ROOT

TOUR = ROOT / "notebooks" / "tour.ipynb"
RECORRIDO = ROOT / "notebooks" / "recorrido.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"
CELL_TIMEOUT = 600  # seconds a cell may take (the whole tour takes about a minute on a quiet machine)


def _notebook(path: Path = TOUR):
    import nbformat

    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", [TOUR, RECORRIDO], ids=["tour", "recorrido"])
def test_the_committed_tour_has_no_outputs(path):
    code = [cell for cell in _notebook(path).cells if cell.cell_type == "code"]
    assert code, "the tour has code cells"
    assert [i for i, cell in enumerate(code) if cell.outputs or cell.execution_count is not None] == []


def _recording_client(notebook, seen: list[tuple[str, str, int]], train: str = "train"):
    """An nbclient NotebookClient that also records every message carrying a display id: (message type, display
    id, how many epochs its chart's train curve holds). nbclient applies an update to the output in place, so
    only the messages show that a display was updated rather than drawn once."""
    from nbclient import NotebookClient

    class Recording(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            content = msg["content"]
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id and PLOTLY in content.get("data", {}):
                traces = content["data"][PLOTLY]["data"]
                epochs = max((len(t["x"]) for t in traces if t.get("name") == train), default=0)
                seen.append((msg["msg_type"], display_id, epochs))
            return super().process_message(msg, cell, cell_index)

    return Recording(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                     resources={"metadata": {"path": str(TOUR.parent)}})


def _code_cell(notebook, text: str):
    """The code cell whose source contains ``text``."""
    return next(cell for cell in notebook.cells if cell.cell_type == "code" and text in cell.source)


@pytest.mark.mnist
@pytest.mark.slow
def test_the_tour_runs_top_to_bottom_on_a_real_kernel(mnist_dir, temporary_store: Path, tmp_path: Path):
    pytest.importorskip("ipykernel")
    notebook = _notebook()
    displays: list[tuple[str, str, int]] = []
    # the kernel inherits this process's environment: RESULTS_DB (the test's store, conftest) and MNIST_DIR
    _recording_client(notebook, displays).execute()

    store = RunStore(temporary_store)
    runs = store.search_runs(order_by="id", descending=False)
    assert [(r.status, r.source) for r in runs] == [(RunStatus.FINISHED, "notebook")] * 7
    first = runs[0]

    charts = [o for o in _code_cell(notebook, "lab.train(hidden=(128,)").outputs if PLOTLY in o.get("data", {})]
    assert len(charts) == 1  # one display, updated in place: no chart per update
    shown = [d for d in displays if d[0] == "display_data"]
    updates = [d for d in displays if d[0] == "update_display_data"]
    assert len(shown) == 1 and updates and {d[1] for d in updates} == {shown[0][1]}
    assert shown[0][2] < first.planned_epochs == updates[-1][2]  # shown early, brought to the last epoch by updates
    chart = charts[0]["data"]
    epochs = list(range(1, first.planned_epochs + 1))
    assert [trace["x"] for trace in chart[PLOTLY]["data"] if trace["name"] == "train"] == [epochs, epochs]
    assert chart["text/plain"].startswith(f"run {first.id} finished after 5/5 epochs")

    printed = "".join(o.get("text", "") for o in _code_cell(notebook, "print(comparison.verdict)").outputs)
    assert printed.startswith("Verdict (val. accuracy at each seed's last epoch, best against the others): ")
    assert "a real difference" in printed or "within seed noise" in printed
    assert "n = 3 and 3" in printed

    refused = "".join(o.get("text", "") for o in _code_cell(notebook, "lab.train(lr=-0.1)").outputs)
    assert refused.strip() == "lr must be a number > 0 and <= 10 (got -0.1)"
    assert not any(o.output_type == "error" for cell in notebook.cells if cell.cell_type == "code"
                   for o in cell.outputs)


# English words that must not remain in what the Spanish tour prints (whole words, any case); its tables' column
# names (val_acc, status...) are the Lab API's code names, the same in every language, and are not read here.
ENGLISH = ("the", "and", "with", "after", "run", "runs", "epoch", "epochs", "batch", "loss", "accuracy",
           "validation", "test", "best", "seed", "seeds", "finished", "verdict", "within", "noise", "difference",
           "must", "got", "train", "training")


def _printed(cell) -> str:
    """What a code cell shows as text: its printed lines and its value's text (not a table's)."""
    texts = [o.get("text", "") for o in cell.outputs if o.output_type == "stream"]
    texts += [o["data"].get("text/plain", "") for o in cell.outputs
              if "data" in o and "text/html" not in o["data"]]  # a DataFrame carries HTML: its columns are codes
    return "".join(texts)


@pytest.mark.mnist
@pytest.mark.slow
def test_the_spanish_tour_runs_and_reads_in_spanish(mnist_dir, temporary_store: Path):
    """Issue 26: the notebook tour in Spanish (i18n.set_language("es") in its first cell): runs, progress, the
    refusal, the chart and the verdict all read in Spanish."""
    pytest.importorskip("ipykernel")
    notebook = _notebook(RECORRIDO)
    displays: list[tuple[str, str, int]] = []
    _recording_client(notebook, displays, train="entrenamiento").execute()
    assert not any(o.output_type == "error" for cell in notebook.cells if cell.cell_type == "code"
                   for o in cell.outputs)
    runs = RunStore(temporary_store).search_runs(order_by="id", descending=False)
    assert [(r.status, r.source) for r in runs] == [(RunStatus.FINISHED, "notebook")] * 7
    assert {d[2] for d in displays if d[0] == "update_display_data"} >= {5}  # the chart's Spanish train curve

    first = _printed(_code_cell(notebook, "lab.train(hidden=(128,)"))
    assert f"<Run {runs[0].id} 'recorrido: primera ejecución'" in first and "tras 5/5 épocas" in first
    refused = _printed(_code_cell(notebook, "lab.train(lr=-0.1)"))
    assert refused.strip() == "lr debe ser un número > 0 y <= 10 (se recibió -0.1)"
    verdict = _printed(_code_cell(notebook, "print(comparison.verdict)"))
    assert verdict.startswith("Veredicto") and ("una diferencia real" in verdict or "dentro del ruido" in verdict)
    printed = "\n".join(_printed(cell) for cell in notebook.cells if cell.cell_type == "code")
    printed = re.sub(r"(?m)^.*IPKernelApp.*$", " ", printed)  # the kernel's own warning, not the lab's
    printed = re.sub(r"<(Run|Lab|LRFind)\b|\S*/\S*", " ", printed)  # the API's class names; paths
    english = sorted({w for w in re.findall(r"[A-Za-z]+", printed) if w.lower() in ENGLISH})
    assert not english, (english, printed)
