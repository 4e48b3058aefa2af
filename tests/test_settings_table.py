"""Each setting is described once, in the settings table; the server's traits, the kernels'
environment, ``%guard config`` and the admin's fixed settings are made from it."""

import os
import re

import pytest
from traitlets.config import Config

from colab_guard.contract.setting_kinds import BOOL, HOURS, INT, NUMBER, PATH, RATES, SECONDS, SIZE, TEXT
from colab_guard.contract.settings import CONFIGURABLE, SETTINGS, WatcherSettings, parse_value, read_remembered, remember
from colab_guard.server.admin import ADMIN_FIXED
from colab_guard.server.settings import ColabGuardSettings

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "colab_guard")
TABLE = os.path.join(ROOT, "contract", "settings.py")


def other_than_default(setting, tmp_path):
    """A value of the setting's kind that is not its default (and fits its range)."""
    kind, default = setting.kind, setting.default
    if kind is BOOL:
        return not default
    if kind is INT:
        return default + 2
    if kind is NUMBER:
        return default * 0.9 if setting.bounds and setting.bounds.high is not None else default + 1.5
    if kind is SIZE:
        return 3 << 30
    if kind is PATH:
        return str(tmp_path / setting.name)
    if kind is TEXT:
        return f"{setting.name}-value"
    if kind in (SECONDS, HOURS):
        return 5400.0
    if kind is RATES:
        return {"T4": {"rate": 1.96, "unit": "compute units"}}
    raise AssertionError(f"no example for {kind.name}")


def test_every_kernel_setting_reaches_the_kernel_as_the_server_has_it(tmp_path):
    # Given a server configured with a value other than the default for every setting it hands kernels
    kernel_settings = [s for s in SETTINGS if s.kernel]
    values = {s.name: other_than_default(s, tmp_path) for s in kernel_settings}
    values["snapshot_percent"], values["critical_percent"] = 86.0, 96.0  # in order with warn's 67.5
    server = ColabGuardSettings(
        config=Config({"ColabGuardSettings": {s.name: values[s.name] for s in kernel_settings if s.server}})
    )
    # When the server makes a kernel's environment, with the kernel's own settings (tests set them) beside
    env = server.kernel_env() | {s.env: s.kind.to_text(values[s.name]) for s in kernel_settings if not s.server}
    # Then the kernel reads back every value, none left at its default
    read = WatcherSettings.from_env(env, remembered=False)
    for setting in kernel_settings:
        assert getattr(read, setting.name) == values[setting.name], setting.name
        assert read.source(setting.name) == f"environment ({setting.env})"


def test_the_server_traits_are_the_table():
    # Given the server's configurable traits
    traits = ColabGuardSettings.class_traits(config=True)
    # Then they are the table's server settings, each with the table's help and default
    assert set(traits) == {s.name for s in SETTINGS if s.server}
    server = ColabGuardSettings()
    for setting in (s for s in SETTINGS if s.server):
        assert traits[setting.name].help == setting.help
        if setting.name not in ("snapshot_dir", "usage_log_path"):  # defaults found where the server runs
            assert getattr(server, setting.name) == setting.default, setting.name
    # And the admin's fixed settings are the ones the table marks
    assert set(ADMIN_FIXED) == {s.name for s in SETTINGS if s.admin}


def test_a_range_is_checked_the_same_way_by_the_server_and_in_the_notebook():
    # Given a value outside keep_snapshots' range
    # When the server's config sets it, and a notebook asks for it
    with pytest.raises(Exception, match=r"ColabGuard\.keep_snapshots must be at least 1, not 0"):
        ColabGuardSettings(config=Config({"ColabGuardSettings": {"keep_snapshots": 0}}))
    with pytest.raises(ValueError, match=r"keep_snapshots must be at least 1, not 0"):
        WatcherSettings.from_env({}, remembered=False).with_values({"keep_snapshots": parse_value("keep_snapshots", "0")})


def test_older_names_are_still_understood_and_remembered_under_todays(tmp_path):
    # Given a settings file remembered under the names settings had before (keep, interrupt)
    path = str(tmp_path / "colab_guard_kernel.json")
    remember(path, {"keep": "5", "interrupt": "off"})
    # Then they are read under today's names, and a kernel starts with them
    assert read_remembered(path) == {"keep_snapshots": "5", "interrupt_cells": "off"}
    settings = WatcherSettings.from_env({"COLAB_GUARD_SETTINGS_FILE": path})
    assert (settings.keep_snapshots, settings.interrupt_cells) == (5, False)
    # And %guard config accepts both names for the same setting
    assert CONFIGURABLE["weekly_hours"] is CONFIGURABLE["weekly_accelerator_hours"]
    assert parse_value("weekly_hours", "12") == 12.0


def test_a_setting_is_declared_only_in_the_table():
    # Given every module of colab-guard but the table
    modules = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(ROOT)
        for name in names
        if name.endswith(".py") and os.path.join(folder, name) != TABLE
    ]
    # Then none names a setting's environment variable, declares a trait or a default for it
    found = []
    for path in modules:
        with open(path) as f:
            text = f.read()
        for setting in SETTINGS:
            # a class attribute (a trait, a dataclass field with its default), or the variable's name
            declaration = re.compile(
                rf"^ {{4}}{setting.name}: [^=\n,]+ = .*$|^ {{4}}{setting.name} = (Bool|Int|Float|Unicode|Dict|Union)\(|\"{setting.env}\"",
                re.M,
            )
            found += [f"{os.path.relpath(path, ROOT)}: {m.group(0).strip()}" for m in declaration.finditer(text)]
    assert found == []
