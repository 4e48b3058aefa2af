"""What the kernel shows in the notebook: messages and the inline ``%guard status``."""

from __future__ import annotations

import html

GiB = 1 << 30


def notify(level: str, message: str) -> None:
    """Show a message in the notebook; from the watcher thread it lands in the running cell."""
    from IPython.display import display

    color = "#b45309" if level == "warning" else "#b91c1c"
    display(
        {
            "text/plain": f"colab-guard {level}: {message}",
            "text/html": f'<div style="border-left:4px solid {color};padding:4px 8px"><b>colab-guard</b>: {html.escape(message)}</div>',
        },
        raw=True,
    )


def _bar(percent: float) -> str:
    color = "#16a34a" if percent < 75 else "#d97706" if percent < 85 else "#dc2626"
    return (
        f'<div role="progressbar" aria-valuenow="{percent:.0f}" aria-valuemin="0" aria-valuemax="100" '
        f'style="background:#e5e7eb;width:240px;height:10px;display:inline-block;vertical-align:middle">'
        f'<div style="background:{color};width:{min(percent, 100):.0f}%;height:10px"></div></div>'
    )


class StatusView:
    """``%guard status`` rendered inline: the whole colab-guard UI where no JupyterLab panel loads."""

    def __init__(self, status: dict):
        self.status = status

    def _lines(self) -> list[str]:
        s = self.status
        m = s["memory"]
        lines = [
            f"Memory: {m['working_set'] / GiB:.2f} of {m['limit'] / GiB:.2f} GiB ({m['percent']:.0f}%, limit from {m['limit_source']})",
        ]
        for acc in s["accelerators"]:
            if acc.get("kind") == "gpu":
                lines.append(
                    f"GPU {acc['index']}: {acc['name']}, {acc['memory_used'] / GiB:.1f} of {acc['memory_total'] / GiB:.1f} GiB, "
                    f"{acc['utilization_gpu']}% busy"
                )
            else:
                lines.append("Accelerator: CPU only" + (f" ({acc['error']})" if acc.get("error") else ""))
        snap = s["latest_snapshot"]
        lines.append(
            f"Latest snapshot: {snap['id']} with {len(snap['variables'])} variables"
            if snap
            else "No snapshot of this notebook yet"
        )
        lines.append(
            f"Watcher: {'on' if s['watching'] else 'off'}; warns at {s['warn_percent']:.0f}%, snapshots at {s['snapshot_percent']:.0f}%"
        )
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        m = self.status["memory"]
        rows = "".join(f"<div>{html.escape(line)}</div>" for line in self._lines()[1:])
        return (
            '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:13px">'
            f"<div><b>colab-guard</b> · memory {_bar(m['percent'])} "
            f"{m['working_set'] / GiB:.2f} / {m['limit'] / GiB:.2f} GiB ({m['percent']:.0f}%, {html.escape(m['limit_source'])})</div>"
            f"{rows}</div>"
        )
