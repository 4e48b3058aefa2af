"""Sphinx configuration: MyST Markdown and the PyData theme, as jupyter_server and JupyterHub build theirs."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

project = "colab-guard"
author = "colab-guard contributors"
extensions = ["myst_parser", "colab_guard_reference"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "reference/settings-table.md", "reference/rest-api-endpoints.md"]
html_theme = "pydata_sphinx_theme"
html_title = "colab-guard"
html_theme_options = {"navigation_with_keys": False}
