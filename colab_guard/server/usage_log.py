"""An append-only JSON-lines log of coarse samples, bounded in size by rotation."""

from __future__ import annotations

import json
import os


class UsageLog:
    """Writes one line every ``interval`` seconds; past ``max_bytes`` the file rotates (``.1`` .. ``.keep``)."""

    def __init__(self, path: str, interval: float = 60.0, max_bytes: int = 5 << 20, keep: int = 3):
        self.path, self.interval, self.max_bytes, self.keep = path, interval, max_bytes, keep
        self._last = float("-inf")

    def maybe_write(self, now: float, record: dict) -> bool:
        if self.interval <= 0 or now - self._last < self.interval:
            return False
        self._last = now
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        try:
            if os.path.getsize(self.path) + len(line) > self.max_bytes:
                self._rotate()
        except FileNotFoundError:
            pass
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return True

    def lines(self) -> list[str]:
        """Every line of the log and its rotated files, oldest file first."""
        out: list[str] = []
        for path in [f"{self.path}.{i}" for i in range(self.keep, 0, -1)] + [self.path]:
            try:
                with open(path, errors="replace") as f:
                    out += f.read().splitlines()
            except OSError:
                continue
        return out

    def _rotate(self) -> None:
        for i in range(self.keep - 1, 0, -1):
            if os.path.exists(f"{self.path}.{i}"):
                os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
        os.replace(self.path, f"{self.path}.1")
