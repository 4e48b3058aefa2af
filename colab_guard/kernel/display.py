"""What the kernel shows in the notebook: messages and the inline ``%guard status``."""

from __future__ import annotations

import html
from typing import Any

from ..contract.units import human_bytes
from . import panel_format

GiB = 1 << 30


def notify(level: str, message: str) -> None:
    """Show a message in the notebook; from the watcher thread it lands in the running cell."""
    from IPython.display import display

    color = "#b45309" if level == "warning" else "#b91c1c"
    display(  # type: ignore[no-untyped-call]  # IPython leaves it untyped
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


def _cost_line(cost: dict[str, Any]) -> list[str]:
    """ "Cost so far" and "At low GPU utilisation", as the panel's cost block."""
    share = (
        f" ({panel_format.format_percent(100 * cost['accrued_low_utilization'] / cost['accrued'])})"
        if cost.get("accrued")
        else ""
    )
    over = panel_format.format_duration(cost["hours"] * 3600)
    how = f", since {cost['hours_from']}" if cost.get("hours_from") else ""
    lines = [
        f"Cost so far: {panel_format.format_money(cost['accrued'], cost['unit'])} "
        f'({panel_format.format_money(cost["rate"], cost["unit"])}/h for "{cost["pattern"]}" over {over}{how})',
        f"At low GPU utilisation: {panel_format.format_money(cost['accrued_low_utilization'], cost['unit'])}{share}"
        + (
            f" (measured over the {panel_format.format_duration(cost['low_utilization_measured_seconds'])} this kernel has watched)"
            if (cost.get("low_utilization_measured_seconds") or 0) >= 60
            else " (measured by this kernel: it has watched for under a minute)"
            if cost.get("low_utilization_measured_seconds") is not None
            else ""
        ),
    ]
    return lines


def _disk_line(key: str, disk: dict[str, Any]) -> str:
    """One disk: used of total, free, where."""
    label = panel_format.DISK_LABELS.get(key, key) + (" (Google Drive)" if disk.get("google_drive") else "")
    if not disk.get("total"):
        return f"{label}: n/a · {disk.get('path')}"
    used = panel_format.format_bytes_pair(disk["used"], disk["total"])
    return f"{label}: {used} used ({panel_format.format_percent(disk.get('percent'))}), {human_bytes(disk['free'])} free · {disk['path']}"


def _runtime_line(life: dict[str, Any]) -> str:
    """The runtime's age against its maximum lifetime, and how its start is known."""
    age, started = panel_format.format_duration(life["age"]), life["started_how"]
    if not life.get("max_lifetime"):
        return f"Runtime: up {age}, no maximum lifetime known; started {started}"
    left, maximum = panel_format.format_duration(life["seconds_left"]), panel_format.format_duration(life["max_lifetime"])
    return f"Runtime ends in {left}: up {age} of its maximum {maximum} ({life['max_lifetime_source']}); started {started}"


def cell_line(cell: dict[str, Any]) -> str:
    """One cell's memory: number, growth and peak of the working set, of the kernel, time, first line."""

    def signed(n: float | None) -> str:
        return "n/a" if n is None else ("+" if n >= 0 else "-") + human_bytes(abs(n))

    number = f"[{cell['number']}]" if cell.get("number") is not None else "[?]"
    took = "running" if cell.get("running") else panel_format.format_duration(cell.get("seconds"))
    return (
        f"{number:>6} {signed(cell.get('growth')):>11} {human_bytes(cell.get('working_set_peak')):>10}  "
        f"{signed(cell.get('rss_growth')):>11} {human_bytes(cell.get('rss_peak')):>10}  {took:>8}  {cell.get('first_line') or ''}"
    )


CELLS_HEADER = f"{'cell':>6} {'Δ memory':>11} {'peak':>10}  {'Δ kernel':>11} {'peak':>10}  {'took':>8}  first line"


class StatusView:
    """``%guard status`` rendered inline: the whole colab-guard UI where no JupyterLab panel loads."""

    def __init__(self, status: dict[str, Any]):
        self.status = status

    def _header(self) -> str:
        s = self.status
        env = s.get("environment") or {}
        kind = str(env.get("kind") or "")
        label = {"colab": "Colab", "jupyterhub": "JupyterHub", "local": "Local"}.get(kind, kind or "Unknown")
        nb = s.get("notebook") or {}
        if nb.get("known", True):
            which = f"notebook {nb.get('name') or nb.get('key')}"
        else:
            which = "notebook unknown (snapshots filed for this kernel alone)"
        return f"{label} · {which}"

    def _lines(self) -> list[str]:
        s = self.status
        m = s["memory"]
        lines = [
            f"Memory: {panel_format.format_bytes_pair(m['working_set'], m['limit'])} ({panel_format.format_percent(m['percent'])}), "
            f"limit: {panel_format.limit_source_label(m['limit_source'])}",
        ]
        projection = m.get("projection")
        if projection:
            rate = panel_format.format_byte_rate(projection["bytes_per_second"])
            lines.append(
                f"Trend: climbing {rate}, at the limit"
                if projection["seconds"] <= 0
                else f"Trend: climbing {rate}: limit in ~{panel_format.format_duration(projection['seconds'])}"
            )
        else:
            lines.append("Trend: not climbing")
        accelerators = s.get("accelerators") or []
        lines.append(f"Accelerator: {panel_format.accelerator_summary(accelerators)}")
        status_text = panel_format.accelerator_status_text(s.get("accelerator_status"))
        if status_text and not any(a.get("kind") in ("gpu", "tpu") for a in accelerators):
            lines.append(f"  {status_text}" + (f": {s['accelerator_error']}" if s.get("accelerator_error") else ""))
        for acc in accelerators:
            if acc.get("kind") == "gpu":
                lines.append(
                    f"  GPU {acc['index']}: {acc['name']}, memory {panel_format.format_bytes_pair(acc['memory_used'], acc['memory_total'])}, "
                    f"utilisation {panel_format.format_percent(acc.get('utilization_gpu'))}"
                )
            elif acc.get("kind") == "tpu":
                chips = f"{acc['chips']} chips" if acc.get("chips") else "chips not visible"
                lines.append(
                    f"  {panel_format.tpu_label(acc.get('accelerator_type'))}: {chips}, {acc.get('architecture')}, "
                    f"libtpu {'installed' if acc.get('libtpu') else 'not installed'}"
                )
        for note in s.get("notes") or []:
            lines.append(f"  Note: {note}")
        lines += [_disk_line(key, disk) for key, disk in (s.get("disks") or {}).items()]
        if s.get("runtime"):
            lines.append(_runtime_line(s["runtime"]))
        idle = s.get("idle") or {}
        if idle.get("seconds_left") is not None:
            lines.append(
                f"Idle disconnect in {panel_format.format_countdown(idle['seconds_left'])} "
                f"({panel_format.cull_reason_text(idle.get('reason'))}, {idle.get('source')})"
            )
            if idle.get("text"):  # under a hub: what keeps the server alive
                lines.append(f"  {idle['text']}")
        elif idle.get("text"):
            lines.append(f"Idle disconnect: {idle['text']}")
        if s.get("cost"):
            lines += _cost_line(s["cost"])
        hours = s.get("accelerator_hours")
        if hours:
            budget = f" of your {hours['budget']:g} h weekly budget ({hours['left']:.1f} h left)" if hours.get("budget") else ""
            lines.append(f"Accelerator hours, last 7 days: {hours['hours']:.1f} h{budget}")
        for warning in s.get("warnings") or []:
            if warning.get("kind") != "accelerator-hours":
                lines.append(f"Advice: {warning['message']}")
            else:
                lines.append(f"Warning: {warning['message']}")
        cells = [c for c in s.get("cells") or [] if not c.get("running") and not c.get("first_line", "").startswith("%guard ")]
        if cells:
            lines.append("Memory by cell (%guard cells for more):")
            lines += [f"  {cell_line(c)}" for c in cells[-3:]]
        snap = s["latest_snapshot"]
        lines.append(
            f"Latest snapshot: {snap['id']} with {len(snap['variables'])} variables"
            if snap
            else "No snapshot of this notebook yet"
        )
        lines.append(
            f"Watcher: {'on' if s['watching'] else 'off'}; warns at {s['warn_percent']:.0f}%, snapshots at "
            f"{s['snapshot_percent']:.0f}%, stops a runaway cell at {s.get('critical_percent', 95):.0f}%"
        )
        if s.get("server"):
            lines.append(f"Countdowns and policy from the colab-guard server (updated {s['server']['age']:.0f} s ago)")
        return lines

    def __repr__(self) -> str:
        return "\n".join([f"colab-guard · {self._header()}", *self._lines()])

    def _repr_html_(self) -> str:
        m = self.status["memory"]
        rows = "".join(f'<div style="white-space:pre-wrap">{html.escape(line)}</div>' for line in self._lines()[1:])
        return (
            '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:13px">'
            f"<div><b>colab-guard</b> · {html.escape(self._header())}</div>"
            f"<div>Memory {_bar(m['percent'])} "
            f"{html.escape(panel_format.format_bytes_pair(m['working_set'], m['limit']))} ({panel_format.format_percent(m['percent'])}, "
            f"{html.escape(panel_format.limit_source_label(m['limit_source']))})</div>"
            f"{rows}</div>"
        )
