"""The run configuration never guesses: strict TOML, no silent demo defaults, one serialised form."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import arr_stats
from arr_stats.cli import main
from arr_stats.config import (
    DEMO_CONFIG,
    ConfigError,
    config_from_dict,
    config_to_dict,
    load_config,
)
from arr_stats.derive.load import load_build, load_derived
from arr_stats.errors import ArrStatsError

VALID = """
[paths]
registry = "registry"
nav = "nav"
derived = "derived"

[nav]
data_end = "2025-12-31"
"""


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's error output: exactly one line, and no traceback."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


# ---------------------------------------------------------------- nothing is guessed


#: The data end of the small hand-made delivery (tests/conftest.py).
SMALL_DATA_END = "2025-12-31"


def test_build_without_configuration_needs_data_end(tmp_path, capsys, small_delivery):
    registry, nav = small_delivery / "registry", small_delivery / "nav"
    args = ["build", "--registry", str(registry), "--nav", str(nav), "--out", str(tmp_path)]
    assert main(args) == 2
    assert "--data-end" in one_line_error(capsys)
    assert not (tmp_path / "build.json").exists()


def test_build_without_configuration_names_the_missing_folders(tmp_path, capsys):
    assert main(["build", "--data-end", "2025-12-31", "--out", str(tmp_path)]) == 2
    message = one_line_error(capsys)
    assert "--registry" in message and "--nav" in message


def test_build_without_configuration_uses_the_given_data_end(tmp_path, small_delivery):
    registry, nav = small_delivery / "registry", small_delivery / "nav"
    out = tmp_path / "derived"
    args = ["build", "--registry", str(registry), "--nav", str(nav), "--out", str(out)]
    assert main([*args, "--data-end", SMALL_DATA_END, "--quiet"]) == 0
    recorded = json.loads((out / "build.json").read_text(encoding="utf-8"))["config"]
    assert recorded["nav"]["data_end"] == SMALL_DATA_END
    assert recorded["source"] is None  # no configuration file was used, not even the demo's
    assert recorded["paths"]["derived"] == str(out.resolve())


# ---------------------------------------------------------------- strict TOML


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("[disclosure]\nmin_cel = 5\n", "'min_cel'"),  # a typo of min_cell
        ("[outcome]\nfollowup_days = 365\n", "[outcome]"),  # a typo of [outcomes]
        ('[outcomes]\nfollowup_days = "365"\n', "followup_days"),  # a string, not a number
        ("[outcomes]\nfollowup_days = 20\n", "rtw_min_days"),  # F < L
        ("[disclosure]\nmin_cell = 0\n", "min_cell"),
        ("[disclosure]\nmin_cell = 12\n", "min_denominator"),  # min_denominator < min_cell
        ("[disclosure]\ncomplementary_suppression = 1\n", "complementary_suppression"),
        ("[outcomes]\nmonth_days = { 3 = 91, 6 = 183 }\n", "month_days"),
        ('[outcomes]\nstate_order = ["dead"]\n', "state_order"),
        ('[nav]\nencoding = "cp1252-ish"\n', "encoding"),
        ("[report]\nlow_coverage_threshold = 60\n", "low_coverage_threshold"),
        (
            '[targets.arr_rtw13]\nlevel_green = 0.6\nlevel_yellow = 0.4\ndirection = "higher"\n',
            "arr_rtw13",
        ),
        (
            '[targets.arr_rtw12]\nlevel_green = 0.4\nlevel_yellow = 0.6\ndirection = "higher"\n',
            "level_green",
        ),
        (
            '[targets.arr_rtw12]\nlevel_green = 0.6\nlevel_yellow = 0.4\ndirection = "up"\n',
            "direction",
        ),
    ],
)
def test_a_bad_key_or_value_stops_the_build_naming_it(tmp_path, capsys, extra, named):
    # [nav] is in VALID already; a second [nav] table would be a TOML error, so
    # an encoding test replaces the section.
    if "encoding" in extra:
        text = VALID.replace("[nav]\n", '[nav]\nencoding = "cp1252-ish"\n')
    else:
        text = VALID + extra
    config = write_toml(tmp_path, text)
    assert main(["build", "--config", str(config), "--quiet"]) == 2
    message = one_line_error(capsys)
    assert named in message, message
    assert str(config) in message  # the file is named


def test_the_unknown_key_message_lists_what_is_allowed(tmp_path):
    config = write_toml(tmp_path, VALID + "[disclosure]\nmin_cel = 5\n")
    with pytest.raises(ConfigError, match=r"allowed: min_cell, min_denominator"):
        load_config(config)


def test_a_missing_data_end_is_named(tmp_path):
    config = write_toml(tmp_path, VALID.replace('data_end = "2025-12-31"\n', ""))
    with pytest.raises(ConfigError, match="data_end"):
        load_config(config)


def test_a_valid_file_takes_the_spec_defaults_for_what_it_leaves_out(tmp_path):
    config = load_config(write_toml(tmp_path, VALID))
    assert (config.outcomes.followup_days, config.outcomes.rtw_min_days) == (365, 28)
    assert config.outcomes.month_days == {3: 91, 6: 183, 12: 365}
    assert (config.disclosure.min_cell, config.disclosure.min_denominator) == (5, 10)
    assert config.registry_dir == (tmp_path / "registry").resolve()


# ---------------------------------------------------------------- one serialised form


def test_the_serialised_form_round_trips_and_is_the_toml_shape():
    demo = load_config(DEMO_CONFIG)
    record = json.loads(json.dumps(config_to_dict(demo)))
    assert set(record) == {
        "paths",
        "nav",
        "registry",
        "linkage",
        "outcomes",
        "disclosure",
        "targets",
        "report",
        "source",
    }
    assert config_from_dict(record, source=demo.source) == demo
    # and it is read as strictly as a file
    record["disclosure"]["min_cel"] = 5
    with pytest.raises(ConfigError, match="min_cel"):
        config_from_dict(record)


# ---------------------------------------------------------------- a folder carries its configuration


def test_a_folder_without_build_json_is_refused(tmp_path, capsys):
    with pytest.raises(ArrStatsError, match="build.json"):
        load_build(tmp_path)
    assert main(["report", "--derived", str(tmp_path), "--year", "2025"]) == 2
    assert "build.json" in one_line_error(capsys)


def test_report_needs_a_build_to_be_named(capsys):
    assert main(["report", "--year", "2025"]) == 2
    assert "--derived" in one_line_error(capsys)


def test_a_folder_is_read_with_its_recorded_configuration(demo_derived, demo_params):
    build = load_build(demo_derived)
    assert build.config.outcomes.data_end == demo_params.data_end
    assert build.config.derived_dir == demo_derived.resolve()


def test_a_configuration_with_other_outcome_parameters_is_refused(
    demo_derived, demo_delivery, demo_params, config_for
):
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    assert load_derived(config).config.outcomes == config.outcomes
    other = config.with_overrides(data_end=demo_params.data_end.replace(day=1))
    with pytest.raises(ArrStatsError, match="data_end"):
        load_derived(other)


# ---------------------------------------------------------------- the public API


def test_the_public_api_is_listed_and_loads():
    assert set(arr_stats.__all__) - {"__version__"} == set(arr_stats._EXPORTS)
    for name in arr_stats.__all__:
        assert getattr(arr_stats, name) is not None, name
    assert {"load_build", "KaplanMeier", "CumulativeIncidence", "CauseSpecificCox"} <= set(
        arr_stats.__all__
    )
    with pytest.raises(AttributeError):
        arr_stats.no_such_name  # noqa: B018


def test_ingest_keys_are_read_strictly(tmp_path):
    """[registry] and [linkage] (issue 12): read, round-tripped, and checked like every key."""
    config = load_config(
        write_toml(
            tmp_path,
            VALID
            + '\n[registry]\nencoding = "cp1252"\nfirst_year = 2016\nallow_empty = ["skjema_t3"]\n'
            + "\n[linkage]\nmin_linked_share = 0.8\npad_ids = { lopenr = 8 }\n",
        )
    )
    assert config.registry.encoding == "cp1252" and config.registry.first_year == 2016
    assert config.registry.allow_empty == ("skjema_t3",)
    assert config.linkage.min_linked_share == 0.8 and config.linkage.pad_ids == {"lopenr": 8}
    assert (
        config_from_dict(json.loads(json.dumps(config_to_dict(config))), source=config.source)
        == config
    )
    for bad, key in (
        ("[registry]\nmin_agee = 16\n", "min_agee"),
        ('[registry]\nencoding = "utf-16"\n', "encoding"),
        ("[linkage]\npad_ids = { lopenr = true }\n", "pad_ids"),
        ("[linkage]\nmin_linked_share = 2\n", "min_linked_share"),
    ):
        with pytest.raises(ConfigError, match=key):
            load_config(write_toml(tmp_path, VALID + "\n" + bad))
