"""RunConfig: every bad setting refused with a message naming it; JSON round-trip; legend labels."""
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.config import ConfigError, RunConfig, differing_fields, labels_for, parse_hidden, quote

BAD = [
    (dict(lr=0), "lr"), (dict(lr=-0.1), "lr"), (dict(lr=float("nan")), "lr"), (dict(lr=float("inf")), "lr"),
    (dict(lr=1e9), "lr"), (dict(lr="fast"), "lr"), (dict(l2=-1), "l2"), (dict(l2=float("nan")), "l2"),
    (dict(batch_size=0), "batch_size"), (dict(batch_size=-64), "batch_size"), (dict(batch_size=10**7), "batch_size"),
    (dict(batch_size=64.5), "batch_size"), (dict(epochs=0), "epochs"), (dict(epochs=10**9), "epochs"),
    (dict(seed=-1), "seed"), (dict(seed=True), "seed"),
    (dict(hidden="128,,x"), "hidden"), (dict(hidden="0"), "hidden"), (dict(hidden="-5"), "hidden"),
    (dict(hidden="100000"), "hidden"), (dict(hidden=[16] * 50), "hidden"), (dict(hidden="12.5"), "hidden"),
    (dict(hidden=None), "hidden"), (dict(activation="swish"), "activation"), (dict(optimizer="lbfgs"), "optimizer"),
    (dict(dtype="float16"), "dtype"), (dict(reduction="max"), "reduction"),
    (dict(train_size=100, batch_size=200), "batch_size"),
    (dict(early_stopping="val_loss", val_size=0), "val_size is 0"), (dict(early_stopping="test_acc"), "early_stopping"),
    (dict(patience=0), "patience"), (dict(patience=-3), "patience"), (dict(min_delta=-0.1), "min_delta"),
    (dict(dropout=1), "dropout"), (dict(dropout=-0.1), "dropout"), (dict(dropout=float("nan")), "dropout"),
    (dict(schedule="linear"), "schedule"), (dict(step_factor=0), "step_factor"), (dict(step_factor=1.5), "step_factor"),
    (dict(step_every=0), "step_every"), (dict(gamma=0), "gamma"), (dict(gamma=2), "gamma"),
    (dict(cosine_min=-1), "cosine_min"), (dict(warmup_epochs=-1), "warmup_epochs"),
    (dict(warmup_epochs=10, epochs=10), "warmup_epochs"), (dict(val_size=-1), "val_size"),
    (dict(val_size=60_000), "val_size"), (dict(val_size=59_990), "batch_size"),
    (dict(train_size=55_000), "val_size"), (dict(restore_best="maybe"), "restore_best"), (dict(init="zeros"), "init"),
    (dict(momentum=1), "momentum"), (dict(rho=-0.5), "rho"), (dict(beta1=1.0), "beta1"), (dict(beta2=2), "beta2"),
]


@pytest.mark.parametrize("changes,field", BAD, ids=[repr(changes)[1:-1] for changes, _ in BAD])
def test_bad_settings_are_refused_with_a_message_naming_the_field(changes, field):
    with pytest.raises(ConfigError) as err:
        RunConfig(**changes)
    assert field.split("_")[0] in str(err.value) and "\n" not in str(err.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as err:
        RunConfig(lr=0, epochs=0)
    assert "lr" in str(err.value) and "epochs" in str(err.value)


def test_text_is_parsed_and_normalized():
    c = RunConfig(hidden="128, 64", lr="0.01", epochs="5", optimizer=" Adam ", activation="TANH")
    assert c.hidden == (128, 64) and c.lr == 0.01 and c.epochs == 5
    assert c.optimizer == "adam" and c.activation == "tanh"
    assert parse_hidden("") == () and parse_hidden("256") == (256,) and parse_hidden([32, 16]) == (32, 16)


def test_json_round_trip_and_unknown_keys():
    c = RunConfig(hidden=(96, 32), lr=0.1, l2=1e-4, seed=7)
    assert RunConfig.from_json(c.to_json()) == c
    with pytest.raises(ConfigError, match="unknown setting 'nesterov'"):
        RunConfig.from_dict({"nesterov": True})
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{nope")


def test_labels_name_only_what_differs():
    a, b = RunConfig(lr=0.1), RunConfig(lr=0.001)
    assert labels_for([a, b]) == ["lr=0.1", "lr=0.001"]
    assert differing_fields([a, a.replace(seed=3)]) == []  # seeds are not a difference of config
    assert labels_for([RunConfig(hidden=(128, 64)), RunConfig(hidden=(128, 96), batch_size=32)]) == \
        ["hidden=128-64, batch=64", "hidden=128-96, batch=32"]


FIELD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                         st.lists(st.integers(-10, 5000), max_size=12), st.binary(max_size=10))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["hidden", "activation", "optimizer", "lr", "l2", "epochs", "batch_size",
                                        "seed", "dtype", "reduction", "train_size", "data_dir"]), FIELD_VALUES))
def test_any_input_gives_a_valid_config_or_a_config_error(values):
    try:
        c = RunConfig.from_dict(values)
    except ConfigError as exc:
        assert str(exc)
        return
    assert 0 < c.lr <= 10 and math.isfinite(c.l2) and 1 <= c.epochs <= 1000 and all(1 <= w <= 4096 for w in c.hidden)
    assert RunConfig.from_json(c.to_json()) == c


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_hidden_text_parses_or_is_refused_cleanly(text):
    try:
        widths = parse_hidden(text)
    except ConfigError:
        return
    assert all(isinstance(w, int) and 1 <= w <= 4096 for w in widths)


@pytest.mark.parametrize("text", ["1e2", "\uff11\uff12\uff18", "128, 1e2", "0x80", "128.0", " 12 8 "])
def test_widths_are_plain_ascii_digits(text):
    """Issue 12: '1e2' and full-width digits were accepted as hidden widths."""
    with pytest.raises(ConfigError, match="hidden layer"):
        parse_hidden(text)
    with pytest.raises(ConfigError, match="hidden"):
        RunConfig(hidden=text)


@pytest.mark.parametrize("changes", [dict(epochs="1e2"), dict(batch_size="\uff16\uff14"), dict(seed="1.5"),
                                     dict(lr="\uff10.1"), dict(epochs="9" * 5000)])
def test_numbers_in_text_are_ascii_and_whole_where_needed(changes):
    with pytest.raises(ConfigError) as err:
        RunConfig.from_dict(changes)
    assert next(iter(changes)) in str(err.value)


def test_none_and_empty_mean_no_hidden_layer():
    assert parse_hidden("none") == parse_hidden(" None ") == parse_hidden("") == ()
    assert RunConfig(hidden="none").architecture == "784-10"


def test_error_messages_quote_long_input_cut_short():
    """Issue 12: an error message quoted a 5,083-character input whole."""
    for changes in (dict(hidden="x" * 5083), dict(activation="r" * 5083), dict(lr="9" * 5083),
                    {"k" * 5083: 1}):
        with pytest.raises(ConfigError) as err:
            RunConfig.from_dict(changes)
        message = str(err.value)
        assert len(message) < 200 and "\n" not in message and "5083 characters" in message, message
    assert quote("short") == "'short'" and quote("y" * 100).endswith("… (100 characters)")


def test_every_field_is_in_the_schema_with_a_parser_that_accepts_its_default():
    from dataclasses import fields

    from experiments.config import parse_setting, schema
    assert [e.name for e in schema()] == [f.name for f in fields(RunConfig)]
    for entry in schema():
        assert parse_setting(entry.name, entry.default) == entry.default
        assert parse_setting(entry.name, entry.setting.parse.to_text(entry.default)) == entry.default
        assert entry.setting.label and entry.setting.help and entry.setting.short
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_setting("nesterov", True)


def test_protocol_settings_parse_from_text_and_stored_runs_without_them_keep_what_they_did():
    c = RunConfig(early_stopping=" VAL_ACC ", patience="3", restore_best="no", dropout="0.5", schedule="Cosine",
                  init="small", momentum="0.5")
    assert (c.early_stopping, c.patience, c.restore_best, c.dropout, c.schedule, c.init, c.momentum) == \
        ("val_acc", 3, False, 0.5, "cosine", "small", 0.5)
    assert c.monitor == "val_acc" and RunConfig().monitor == "val_loss"
    assert RunConfig.from_json(c.to_json()) == c and RunConfig.from_stored(c.to_json()) == c
    old = {k: v for k, v in RunConfig().to_dict().items() if k in ("hidden", "lr", "epochs", "seed")}
    assert RunConfig.from_stored(json.dumps(old)).val_size == 0  # stored before validation: it held none out
    assert RunConfig.from_json(json.dumps(old)).val_size == 10_000  # a new config takes the default
    assert RunConfig().val_size == 10_000 and RunConfig().restore_best and RunConfig().early_stopping == "off"


def test_labels_leave_out_protocol_settings_that_do_not_differ():
    runs = [RunConfig(dropout=0.5), RunConfig(), RunConfig(schedule="step")]
    assert labels_for(runs) == ["dropout=0.5, sched=constant", "dropout=0, sched=constant", "dropout=0, sched=step"]
    assert labels_for([RunConfig(lr=0.1), RunConfig(lr=0.01)]) == ["lr=0.1", "lr=0.01"]  # no defaults listed
