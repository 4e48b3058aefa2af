"""The ``colab-guard`` command: start a local runtime Colab can connect to; show the effective settings.

``colab-guard local-runtime [--port 8888] [--no-browser] [SERVER OPTIONS...]`` starts jupyter_server
as Colab's "Connect to a local runtime" needs (CORS for Colab's origin, a fixed port, Chrome's
Private Network Access preflight answered, colab-guard enabled) and prints the URL to paste into
Colab's dialog. Any other option (``--ServerApp.root_dir=...``, ``--allow-root``) goes to the server.

``colab-guard config [--ColabGuard.name=value ...]`` prints every ColabGuard setting as the server
would resolve it, and where each value came from: the default, a config file, or the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from ..contract.channels import setting_variable

COLAB_ORIGIN = "https://colab.research.google.com"
DEFAULT_PORT = 8888


def local_runtime_argv(port: int, extra: list[str]) -> list[str]:
    """The server's command line; options given by the user come last and so win."""
    return [
        f"--ServerApp.port={port}",
        # Colab's dialog names one port: fail rather than silently move to another
        "--ServerApp.port_retries=0",
        f"--ServerApp.allow_origin={COLAB_ORIGIN}",
        "--ServerApp.allow_credentials=True",
        "--ServerApp.open_browser=False",
        '--ServerApp.jpserver_extensions={"colab_guard": True}',
        "--ColabGuard.allow_private_network=True",
        # No disable_check_xsrf: Colab authenticates with the token, and jupyter_server skips the
        # XSRF check for token-authenticated requests.
        *extra,
    ]


def connection_url(serverapp) -> str:
    """The URL for Colab's "Connect to a local runtime" dialog, with the token."""
    ip = serverapp.ip
    host = "localhost" if ip in ("", "localhost", "127.0.0.1", "0.0.0.0", "::", "::1", "*") else ip
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if serverapp.certfile else "http"
    url = f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}"
    token = serverapp.identity_provider.token
    return f"{url}?token={token}" if token else url


def local_runtime(port: int, extra: list[str]) -> int:
    """Start the server and print the URL for Colab; returns when the server stops."""
    from jupyter_server.serverapp import ServerApp

    app = ServerApp.instance()
    app.initialize(local_runtime_argv(port, extra))

    def announce():
        # queued after the server's own socket binding: printed only once it listens
        url = connection_url(app)
        lines = [
            "",
            "colab-guard: a local runtime for Colab is listening.",
            "In Colab: Connect > Connect to a local runtime, and paste this URL:",
            "",
            f"    {url}",
            "",
        ]
        if not app.identity_provider.token:
            lines.insert(2, "WARNING: this server has no token; anyone who can reach its port can run code on it.")
        print("\n".join(lines), flush=True)

    app.io_loop.add_callback(announce)
    app.start()
    return 0


# -- colab-guard config


@dataclass
class Setting:
    name: str
    value: object
    source: str
    help: str


def config_file_paths() -> list[str]:
    """Where jupyter_server looks for config files, highest priority first (as JupyterApp does)."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    paths = jupyter_config_path()
    config_dir = jupyter_config_dir()
    if config_dir not in paths:
        paths.insert(0, config_dir)
    return paths


def effective_settings(argv: list[str]) -> tuple[list[Setting], list[str]]:
    """Every ColabGuard setting with its value and source, and the config files read.

    The server resolves an extension's settings in this order, each overriding the one before:
    ``jupyter_config`` and ``jupyter_colab_guard_config`` files (the extension's own), then the
    server's ``jupyter_config`` and ``jupyter_server_config`` files, then the command line.
    """
    from traitlets import TraitError
    from traitlets.config import Config
    from traitlets.config.application import Application
    from traitlets.config.loader import KVArgParseConfigLoader

    from .extension import ColabGuard
    from .settings import ColabGuardSettings

    paths = config_file_paths()
    merged, sources, files = Config(), {}, []
    for base in ("jupyter_config", "jupyter_colab_guard_config", "jupyter_config", "jupyter_server_config"):
        for config, filename in Application._load_config_files(base, path=paths, raise_config_file_errors=True):
            if filename not in files:
                files.append(filename)
            if "ColabGuard" in config:
                for key in config["ColabGuard"]:
                    sources[key] = filename
                merged.merge(Config({"ColabGuard": config["ColabGuard"]}))
    own = ColabGuardSettings.class_own_traits(config=True)
    loader = KVArgParseConfigLoader(argv)
    cli = loader.load_config()
    others = [a for a in loader.extra_args] + [f"--{section}.*" for section in cli if section != "ColabGuard"]
    if others:
        raise ValueError(f"only --ColabGuard.NAME=VALUE options are understood, not {' '.join(others)}")
    if "ColabGuard" in cli:
        unknown = sorted(set(cli["ColabGuard"]) - set(own))
        if unknown:
            raise ValueError(f"no ColabGuard setting named {', '.join(unknown)}")
        for key in cli["ColabGuard"]:
            sources[key] = "command line"
        merged.merge(Config({"ColabGuard": cli["ColabGuard"]}))
    try:
        app = ColabGuard(config=merged)
    except TraitError as exc:
        raise ValueError(str(exc)) from None
    settings = []
    for name in sorted(own):
        source = sources.get(name, "default")
        variable = setting_variable(name)
        if name == "snapshot_dir" and source == "default" and os.environ.get(variable):
            source = f"environment ({variable})"
        help_text = " ".join((own[name].help or "").split())
        settings.append(Setting(name, getattr(app, name), source, help_text))
    return settings, files


def print_config(argv: list[str]) -> int:
    settings, files = effective_settings(argv)
    print("Config files found (each overrides the ones above it):")
    for filename in files or ["(none)"]:
        print(f"  {filename}")
    print()
    rows = [(f"ColabGuard.{s.name}", repr(s.value), s.source) for s in settings]
    name_width = max(len(r[0]) for r in rows)
    value_width = min(max(len(r[1]) for r in rows), 60)
    for name, value, source in rows:
        print(f"{name.ljust(name_width)} = {value.ljust(value_width)}  # {source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="colab-guard", description="colab-guard: a local runtime for Colab, and the effective settings."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "local-runtime",
        help="start a Jupyter server Colab can connect to as a local runtime",
        description="Start jupyter_server for Colab's 'Connect to a local runtime', with colab-guard. "
        "Other options are passed to the server (e.g. --ServerApp.root_dir=DIR, --allow-root).",
    )
    run.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT}); no other is tried"
    )
    run.add_argument("--no-browser", action="store_true", help="accepted for familiarity: no browser is ever opened")
    sub.add_parser(
        "config",
        help="print the effective ColabGuard settings and where each came from",
        description="Print every ColabGuard setting as the server resolves it. "
        "--ColabGuard.NAME=VALUE options are treated as the server's command line.",
    )
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.command == "local-runtime":
        return local_runtime(args.port, extra)
    try:
        return print_config(extra)
    except ValueError as exc:
        parser.error(f"config: {exc}")


if __name__ == "__main__":
    sys.exit(main())
