"""A headless run stays light: building the command line loads no dashboard or analysis library.

pandas, Plotly, SciPy and Streamlit together are about 150 MB of a process; `python -m experiments run` needs
none of them, and issue 17 holds a headless 10-epoch run under 400 MB. Commands that need them import them
when they run.
"""
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("pandas", "plotly", "scipy", "streamlit", "optuna", "pyarrow",
         "tensorboardX", "tensorboard", "mlflow", "onnx", "onnxruntime")  # the exports import theirs when they run


def test_building_the_command_line_imports_no_heavy_library():
    code = ("import sys; from experiments.cli.entry import build_parser; build_parser(); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"the CLI's start-up imports {done.stdout.strip()}"
