"""Sweep specs: parsing (JSON and TOML), grid and random expansion, refusal of bad specs (and of a Ray sweep
whose trials mix validation protocols)."""
from __future__ import annotations

import os

import pytest

from experiments.config import MAX_TRIALS, ConfigError, RunConfig
from experiments.sweeps.spec import expand, load_spec, parse_spec, parse_text

TOML = """
name = "lr x batch"
seed = 3
[base]
epochs = 2
train_size = 1000
[grid]
lr = [0.1, 0.01]
batch_size = [32, 128]
[random]
samples = 2
l2 = { log_uniform = [1e-5, 1e-2] }
hidden = { choice = ["64", "128,64"] }
"""


def test_toml_and_json_give_the_same_trials(tmp_path):
    toml_file = tmp_path / "s.toml"
    toml_file.write_text(TOML)
    json_text = ('{"name": "lr x batch", "seed": 3, "base": {"epochs": 2, "train_size": 1000}, '
                 '"grid": {"lr": [0.1, 0.01], "batch_size": [32, 128]}, "random": {"samples": 2, '
                 '"l2": {"log_uniform": [1e-5, 1e-2]}, "hidden": {"choice": ["64", "128,64"]}}}')
    a, b = expand(load_spec(toml_file)), expand(parse_text(json_text))
    assert [t.config for t in a] == [t.config for t in b]
    assert len(a) == 8 and all(isinstance(t.config, RunConfig) for t in a)
    assert {(t.config.lr, t.config.batch_size) for t in a} == {(0.1, 32), (0.1, 128), (0.01, 32), (0.01, 128)}
    assert all(t.config.epochs == 2 and 1e-5 <= t.config.l2 <= 1e-2 for t in a)
    assert {t.config.hidden for t in a} <= {(64,), (128, 64)}
    assert set(a[0].params) == {"lr", "batch_size", "l2", "hidden"}


def test_random_draws_depend_only_on_the_seed():
    spec = {"random": {"samples": 5, "lr": {"log_uniform": [1e-4, 1e-1]}, "seed": {"int_uniform": [0, 99]},
                       "l2": {"uniform": [0, 0.01]}}}
    first = [t.config for t in expand(parse_spec({**spec, "seed": 1}))]
    assert first == [t.config for t in expand(parse_spec({**spec, "seed": 1}))]
    assert first != [t.config for t in expand(parse_spec({**spec, "seed": 2}))]
    assert all(1e-4 <= c.lr <= 1e-1 and 0 <= c.seed <= 99 for c in first)


def test_grid_only_is_the_cartesian_product_in_order():
    trials = expand(parse_spec({"grid": {"lr": [0.1, 0.01], "hidden": [[32], "64,32"]}}))
    assert [(t.config.lr, t.config.hidden) for t in trials] == [(0.1, (32,)), (0.1, (64, 32)),
                                                                 (0.01, (32,)), (0.01, (64, 32))]
    assert [t.index for t in trials] == [0, 1, 2, 3]
    assert "lr=0.1" in trials[0].label()


@pytest.mark.parametrize("spec, words", [
    ({"grid": {"lr": [0.1, 20.0]}}, ["trial 1", "lr=20.0", "lr must be"]),
    ({"grid": {"learning_rate": [0.1]}}, ["unknown setting 'learning_rate'"]),
    ({"grid": {"lr": []}}, ["grid.lr", "non-empty list"]),
    ({"grid": {"lr": 0.1}}, ["grid.lr"]),
    ({"base": {"epochs": 0}, "grid": {"lr": [0.1]}}, ["base:", "epochs"]),
    ({}, ["needs a grid or a random"]),
    ({"grid": {"lr": [0.1]}, "random": {"samples": 2, "lr": {"choice": [1]}}}, ["both grid and random"]),
    ({"random": {"lr": {"log_uniform": [1e-3, 1e-1]}}}, ["random.samples"]),
    ({"random": {"samples": 2, "lr": {"log_uniform": [0, 1e-1]}}}, ["low > 0"]),
    ({"random": {"samples": 2, "lr": {"normal": [0, 1]}}}, ["random.lr must be one of"]),
    ({"random": {"samples": 2, "lr": {"uniform": [0.5, 0.1]}}}, ["low <= high"]),
    ({"grid": {"lr": [0.1]}, "engine": "slurm"}, ["engine must be one of"]),
    ({"grid": {"lr": [0.1]}, "colour": "red"}, ["unknown sweep key 'colour'"]),
    ({"grid": {"seed": list(range(MAX_TRIALS + 1))}}, [f"at most {MAX_TRIALS}"]),
    ({"grid": {"batch_size": [64, 5000]}, "base": {"train_size": 1000}}, ["trial 1", "batch_size"]),
])
def test_bad_specs_are_refused_with_one_line(spec, words):
    with pytest.raises(ConfigError) as info:
        expand(parse_spec(spec))
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_unreadable_or_malformed_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_spec(tmp_path / "missing.json")
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid\nlr = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec(bad)


def test_a_ray_sweep_mixing_validation_protocols_is_refused_in_one_line():
    from experiments.sweeps.ray_engine import _one_protocol
    from experiments.sweeps.spec import Trial
    trials = [Trial(i, RunConfig(val_size=v), {"val_size": v}) for i, v in enumerate((0, 10_000))]
    with pytest.raises(ConfigError, match="same val_size") as err:
        _one_protocol(trials)
    assert "\n" not in str(err.value)
    _one_protocol(trials[1:])  # one protocol: fine


DEEP = 100_000


@pytest.mark.parametrize("text, fmt", [
    ("[" * DEEP + "]" * DEEP, "json"),  # deeper than Python's recursion limit: RecursionError in the parser
    ('{"grid": {"lr": ' + "[" * 40 + "0.1" + "]" * 40 + "}}", "json"),  # parses, but no spec is this deep
    ("x = " + "[" * DEEP + "]" * DEEP, "toml"),
    ("x = " + "{a = " * 2000 + "1" + "}" * 2000, "toml"),
], ids=["json-recursion", "json-deep", "toml-arrays", "toml-tables"])
def test_a_deeply_nested_spec_is_refused_in_one_line(tmp_path, text, fmt):
    with pytest.raises(ConfigError) as caught:
        parse_text(text, fmt)
    assert "nested too deeply" in str(caught.value) and "\n" not in str(caught.value)
    path = tmp_path / f"deep.{fmt}"
    path.write_text(text)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_spec(path)


@pytest.mark.parametrize("make, words", [
    (lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    (lambda p: (p.touch(), os.truncate(p, 20 << 30)), "too large"),
], ids=["dev-zero", "sparse-20GB"])
def test_a_spec_file_that_is_no_small_text_is_refused_without_reading_it(tmp_path, make, words):
    make(tmp_path / "spec.json")
    with pytest.raises(ConfigError, match=words):
        load_spec(tmp_path / "spec.json")


def test_a_sweep_name_that_hides_what_it_says_is_refused():
    with pytest.raises(ConfigError, match="U\\+202E"):
        parse_spec({"name": "lr \u202etxt.exe", "grid": {"lr": [0.1]}})


def test_a_bad_spec_is_refused_in_spanish():
    """The refusals are worded in the current language (English stays the default, as the tests above show)."""
    from experiments import i18n

    with i18n.using("es"), pytest.raises(ConfigError) as refused:
        parse_spec({"grid": {"lr": [0.1]}, "method": "tpe", "tpe": {"trials": 2, "startup_trials": 5}})
    assert str(refused.value) == ("tpe.trials (2) es menor que tpe.startup_trials (5): TPE nunca modelaría los "
                                  "resultados; sube trials o baja startup_trials")
    with i18n.using("es"), pytest.raises(ConfigError) as refused:
        parse_spec({"grid": {"lr": []}})
    assert str(refused.value) == "grid.lr debe ser una lista de valores no vacía (se recibió [])"
