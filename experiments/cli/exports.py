"""``python -m experiments export | export-model``: runs out of the lab as CSV, JSON, TensorBoard event files
or MLflow runs, and a run's trained network as an ONNX file (the formats beyond CSV and JSON need
requirements-export.txt; ``experiments.exports`` says how to install it when they are missing)."""
from __future__ import annotations

import argparse
import sys

from experiments.cli.common import open_store, write_output
from experiments.exports import ExportError
from experiments.i18n import _, ngettext
from experiments.store import StoreError
from experiments.store.export import export_csv, export_json

FORMATS = ("csv", "json", "tensorboard", "mlflow")


def add_export_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``export`` and ``export-model`` commands."""
    export = sub.add_parser("export", help=_("export runs as CSV, JSON, TensorBoard event files or into MLflow"))
    export.add_argument("ids", nargs="*", type=int, help=_("run ids (default: all)"))
    export.add_argument("--format", choices=FORMATS, default="csv",
                        help=_("csv or json: one file (or standard output); tensorboard: a folder (-o) with one "
                               "subfolder of event files per run; mlflow: runs logged into --tracking-uri"))
    export.add_argument("--epochs", action="store_true", help=_("CSV: one row per epoch instead of per run"))
    export.add_argument("--output", "-o", default=None,
                        help=_("csv, json: the file to write (default: standard output); tensorboard: the folder"))
    export.add_argument("--tracking-uri", default=None,
                        help=_("mlflow: the tracking store, e.g. sqlite:///mlflow.db (default: $MLFLOW_TRACKING_URI)"))
    export.add_argument("--experiment", default=None, help=_("mlflow: the experiment's name (default: mnist-mlp-lab)"))
    export.set_defaults(func=cmd_export)

    model = sub.add_parser("export-model", help=_("write a run's trained network as an ONNX model file"))
    model.add_argument("id", type=int, help=_("the run's id"))
    model.add_argument("--output", "-o", required=True, help=_("the .onnx file to write"))
    model.set_defaults(func=cmd_export_model)


def cmd_export(args: argparse.Namespace) -> int:
    ids = list(dict.fromkeys(args.ids)) or None
    if args.format == "tensorboard":
        return _export_tensorboard(args, ids)
    if args.format == "mlflow":
        return _export_mlflow(args, ids)
    store = open_store(args)
    if ids:
        found = {r.id for r in store.search_runs(ids=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise StoreError(_("there is no run {ids}: nothing written").format(ids=", ".join(map(str, missing))))
    text = export_json(store, ids) if args.format == "json" else export_csv(store, ids, epochs=args.epochs)
    if args.output:
        write_output(args.output, text, example=f"runs.{args.format}")
        print(_("wrote {path}").format(path=args.output))
    else:
        sys.stdout.write(text)
    return 0


def _export_tensorboard(args: argparse.Namespace, ids: list[int] | None) -> int:
    from experiments.exports.tensorboard_events import export_tensorboard

    if not args.output:
        raise ExportError(_("give the folder for the event files with -o, e.g. -o tensorboard-runs"))
    result = export_tensorboard(open_store(args), ids, args.output)
    names = ", ".join(path.name for path in result.run_folders.values())
    print(ngettext("wrote {n} run to {folder} ({names}); view it with: tensorboard --logdir {folder}",
                   "wrote {n} runs to {folder} ({names}); view them with: tensorboard --logdir {folder}",
                   len(result.run_folders)).format(n=len(result.run_folders), folder=result.folder, names=names))
    return 0


def _export_mlflow(args: argparse.Namespace, ids: list[int] | None) -> int:
    from experiments.exports.mlflow_runs import EXPERIMENT, export_mlflow, tracking_uri_from_environment

    uri = args.tracking_uri or tracking_uri_from_environment()
    if not uri:
        raise ExportError(_("give the MLflow tracking store with --tracking-uri, e.g. --tracking-uri "
                            "sqlite:///mlflow.db"))
    experiment = args.experiment or EXPERIMENT
    result = export_mlflow(open_store(args), ids, uri, experiment)
    again = _(" ({n} exported before: replaced)").format(n=len(result.replaced)) if result.replaced else ""
    print(ngettext("logged {n} run into the MLflow experiment {experiment} at {uri}{again}; view it with: mlflow ui "
                   "--backend-store-uri {uri}",
                   "logged {n} runs into the MLflow experiment {experiment} at {uri}{again}; view them with: mlflow "
                   "ui --backend-store-uri {uri}", len(result.mlflow_ids)).format(
        n=len(result.mlflow_ids), experiment=repr(experiment), uri=uri, again=again))
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    from experiments.exports.onnx_model import INPUT, OUTPUT, export_onnx

    path = export_onnx(open_store(args), args.id, args.output)
    print(_("wrote {path}: input {input} float32 (n, 784) scaled to [0, 1], output {output} (n, 10)").format(
        path=path, input=repr(INPUT), output=repr(OUTPUT)))
    return 0
