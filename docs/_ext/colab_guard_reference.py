"""Writes the docs' reference pages from their one source: the settings table and the OpenAPI file."""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any

import yaml
from sphinx.application import Sphinx

from colab_guard.contract.settings import SETTINGS
from colab_guard.server import settings as server_settings

OPENAPI = os.path.join(os.path.dirname(server_settings.__file__), "openapi.yaml")
METHODS = ("get", "post", "put", "patch", "delete")


def settings_page() -> str:
    """One section per setting: its kind, default, where it can be set, its help."""
    out = ["<!-- Written by docs/_ext/colab_guard_reference.py from the settings table: edit that. -->\n"]
    for s in SETTINGS:
        where = [f"`c.ColabGuard.{s.name}`"] if s.server else []
        if s.kernel:
            where.append(f"`{s.env}` (in a kernel's environment)")
        if s.notebook:
            where.append(f"`%guard config {s.name}=...`")
        facts = [
            f"**Kind:** {s.kind.name}",
            f"**Default:** `{json.dumps(s.default) if s.default is not None else 'none'}`",
            f"**Set with:** {', '.join(where)}",
        ]
        if s.bounds is not None:
            facts.append(f"**Allowed:** {s.bounds}")
        if s.admin:
            facts.append("**An admin's value wins** over the user's own config")
        if s.aliases:
            facts.append(f"**Older name:** {', '.join(f'`{a}`' for a in s.aliases)}")
        help_text = " ".join(s.help.split())
        out.append(f"(setting-{s.name})=\n## `{s.name}`\n\n{help_text}\n\n" + "\n".join(f"- {f}" for f in facts) + "\n")
    return "\n".join(out)


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else schema.get("type", "object")


def api_page() -> str:
    """One section per endpoint: what it answers, its parameters and its responses."""
    with open(OPENAPI) as f:
        spec = yaml.safe_load(f)
    out = ["<!-- Written by docs/_ext/colab_guard_reference.py from colab_guard/server/openapi.yaml: edit that. -->\n"]
    out.append(textwrap.dedent(spec["info"]["description"]).strip() + "\n")
    responses = spec.get("components", {}).get("responses", {})
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            out.append(f"## `{method.upper()} {path}`\n\n{op.get('summary', '')}\n")
            if op.get("description"):
                out.append(textwrap.dedent(op["description"]).strip() + "\n")
            params = op.get("parameters", []) + item.get("parameters", [])
            if params:
                out.append("Parameters:\n")
                out += [
                    f"- `{p['name']}` ({p['in']}{', required' if p.get('required') else ''}): {p.get('description', '')}"
                    for p in params
                ]
                out.append("")
            out.append("Responses:\n")
            for code, response in op.get("responses", {}).items():
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[-1]]
                body = next(iter(response.get("content", {}).values()), {}).get("schema")
                shape = f" (`{_schema_name(body)}`)" if body else ""
                out.append(f"- **{code}**{shape}: {' '.join(response.get('description', '').split())}")
            out.append("")
    out.append("The schemas' every field is in `colab_guard/server/openapi.yaml`; tests check each answer against it.\n")
    return "\n".join(out)


def write_pages(app: Sphinx, config: Any) -> None:
    """Write the generated pages where the sources include them (only when they change)."""
    folder = os.path.join(app.srcdir, "reference")
    os.makedirs(folder, exist_ok=True)
    for name, text in (("settings-table.md", settings_page()), ("rest-api-endpoints.md", api_page())):
        path = os.path.join(folder, name)
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
