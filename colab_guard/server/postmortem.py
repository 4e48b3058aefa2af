"""Why a kernel died: its exit status, its last heartbeat and the cgroup's OOM-kill counter."""

from __future__ import annotations

import signal
import time

from ..contract.heartbeat import Heartbeat, own_heartbeats, pid_alive
from ..contract.manifests import latest_summary
from ..readers.cgroup import Cgroup, read_memory


def _oom_kills_now(beat: Heartbeat) -> int | None:
    """The OOM-kill counter of the cgroup the dead kernel was in, read again now."""
    path, version = beat.get("cgroup_path"), beat.get("cgroup_version")
    if not path or not version:
        return None
    try:
        return read_memory(Cgroup(version, path, path)).oom_kills
    except (OSError, ValueError):
        return None


def diagnose(exit_code: int | None, beat: Heartbeat | None, warn_percent: float) -> dict:
    """Why a kernel died, from its exit status and its last heartbeat."""
    sig = -exit_code if exit_code is not None and exit_code < 0 else None
    signame = signal.Signals(sig).name if sig and sig in signal.Signals._value2member_map_ else None
    before = None if beat is None else beat.get("oom_kills")
    after = None if beat is None else _oom_kills_now(beat)
    oom_counter_rose = before is not None and after is not None and after > before
    near_limit = beat is not None and (beat.get("percent") or 0) >= warn_percent
    if oom_counter_rose:
        cause, confidence = "oom-killer", "certain"
    elif sig == signal.SIGKILL and near_limit:
        cause, confidence = "oom-killer", "likely"
    elif sig == signal.SIGKILL:
        cause, confidence = "killed", "certain"
    elif exit_code not in (None, 0):
        cause, confidence = "crashed", "certain"
    else:
        cause, confidence = "exited", "certain"
    return {
        "cause": cause,
        "confidence": confidence,
        "exit_code": exit_code,
        "signal": signame,
        "oom_kills_before": before,
        "oom_kills_after": after,
        "working_set": None if beat is None else beat.get("working_set"),
        "limit": None if beat is None else beat.get("limit"),
        "percent": None if beat is None else beat.get("percent"),
        "peak_percent": None if beat is None else beat.get("peak_percent"),
        "heartbeat_age": None if beat is None else round(time.time() - beat.get("time", time.time()), 2),
    }


def previous_session_reports(snapshot_dir: str, warn_percent: float) -> list[dict]:
    """Stale heartbeats near the limit: a container OOM may have taken the previous server too.

    Only the current user's own heartbeats: another user's kernels are not this server's business.
    """
    found = []
    for beat in own_heartbeats(snapshot_dir):
        if beat.get("clean_exit") or pid_alive(beat.get("pid")):
            continue
        if (beat.get("percent") or 0) < warn_percent:
            continue
        found.append(
            {
                "kernel_id": None,
                "notebook": beat.get("notebook"),
                "died_at": beat.get("time"),
                **diagnose(None, beat, warn_percent),
                "cause": "oom-killer",
                "confidence": "likely",
                "previous_session": True,
                "snapshot": latest_summary(snapshot_dir, beat.get("notebook")),
            }
        )
    return found
