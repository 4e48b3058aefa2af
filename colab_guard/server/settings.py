"""Every setting of colab-guard's server extension (``c.ColabGuard.*``): traits made from the one
settings table, validated as they are set."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, Float, Int, TraitError, TraitType, Unicode, Union, default, validate
from traitlets.config import Configurable

from ..contract.paths import default_snapshot_dir
from ..contract.setting_kinds import BOOL, HOURS, INT, NUMBER, PATH, RATES, SECONDS, SIZE, TEXT
from ..contract.settings import BY_NAME, SETTINGS, Setting, WatcherSettings

SERVER_SETTINGS = tuple(s for s in SETTINGS if s.server)


def trait(setting: Setting) -> TraitType:
    """The configurable trait of one of the table's settings."""
    kind, value = setting.kind, setting.default
    if kind is BOOL:
        made: TraitType = Bool(value)
    elif kind is INT:
        made = Int(value)
    elif kind is NUMBER:
        made = Float(value)
    elif kind in (SECONDS, HOURS):
        made = Float(value, allow_none=True)
    elif kind is SIZE:
        made = Union([Int(), Unicode()], default_value=value, allow_none=True)
    elif kind in (PATH, TEXT):
        made = Unicode(value) if value is not None else Unicode(None, allow_none=True)
    elif kind is RATES:
        made = Dict(value)
    else:
        raise TypeError(f"no trait for the settings kind {kind.name!r} ({setting.name})")
    made.help = setting.help
    return made.tag(config=True)


class ColabGuardSettings(Configurable):
    """The settings of ``ColabGuard``; the extension app inherits them, so they read ``c.ColabGuard.NAME``."""

    # class scope: locals() is the namespace the class is made from, so the table's traits join it
    locals().update({s.name: trait(s) for s in SERVER_SETTINGS})

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...  # the table's traits, added above

    @property
    def server_id(self) -> str:
        """This server among others sharing the user's folder: its state file is ``server-<id>.json``."""
        return f"{socket.gethostname()}-{os.getpid()}"

    @default("usage_log_path")
    def _default_usage_log_path(self):
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "colab_guard", "usage.jsonl")

    @default("snapshot_dir")
    def _default_snapshot_dir(self):
        return default_snapshot_dir()

    @validate(*(s.name for s in SERVER_SETTINGS))
    def _check(self, proposal):
        setting = BY_NAME[proposal.trait.name]
        try:
            value = setting.kind.from_config(proposal.value)
            setting.check(value)
        except ValueError as exc:
            message = str(exc)
            raise TraitError(
                f"ColabGuard.{message if message.startswith(setting.name) else f'{setting.name}: {message}'}"
            ) from None
        return value

    def watcher_settings(self) -> WatcherSettings:
        """The kernel watcher's settings, checked together (thresholds in order) before anything starts."""
        settings = WatcherSettings(**{s.name: getattr(self, s.name) for s in SERVER_SETTINGS if s.kernel})
        try:
            settings.validate()
        except ValueError as exc:
            raise TraitError(f"ColabGuard: {exc}") from None
        return settings

    def kernel_env(self) -> dict[str, str]:
        """The watcher's settings, passed to the kernels this server starts."""
        settings = self.watcher_settings()
        settings.server = self.server_id
        return settings.to_env()
