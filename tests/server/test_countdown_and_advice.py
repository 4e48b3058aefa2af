"""The pure parts of the session view: cull checks, rate matching, trend and advice."""

import pytest

from colab_guard.server.countdown import next_check_after
from colab_guard.server.history import History
from colab_guard.server.usage_log import UsageLog
from colab_guard.usage.cost import CostMeter, advice, match_rate


@pytest.mark.parametrize(
    "deadline, next_check, interval, expected",
    [(100.0, 95.0, 10.0, 105.0), (100.0, 100.0, 10.0, 110.0), (100.0, 120.0, 10.0, 120.0), (100.5, 90.0, 1.0, 101.0)],
)
def test_next_cull_check_strictly_after_the_deadline(deadline, next_check, interval, expected):
    assert next_check_after(deadline, next_check, interval) == expected


def test_rate_patterns():
    rates = {"A100": {"rate": 1.0}, "T4": {"rate": 0.5}, "TPU v2": {"rate": 2.0}}
    assert match_rate(rates, [{"name": "NVIDIA A100-SXM4-40GB"}])[0] == "A100"
    assert match_rate(rates, [{"name": "Tesla T4"}])[0] == "T4"
    assert match_rate(rates, [{"name": "TPU v2-8"}])[0] == "TPU v2"
    assert match_rate(rates, [{"name": "NVIDIA L4"}]) is None
    assert match_rate(rates, []) is None


def test_memory_growth_is_projected_to_the_limit():
    history = History(600, 1.0)
    for t in range(120):  # 10 MiB/s for two minutes
        history.add(float(t), (1 << 30) + (t * 10 << 20), 4 << 30, [])
    slope, r2 = history.working_set_trend(300)
    assert slope == pytest.approx(10 << 20) and r2 == pytest.approx(1.0)
    memory = {"working_set": (1 << 30) + (119 * 10 << 20), "limit": 4 << 30}
    (warning,) = advice(CostMeter(), 10, (slope, r2), memory)
    assert warning["kind"] == "memory-growth"
    assert warning["seconds_to_limit"] == pytest.approx(((4 << 30) - memory["working_set"]) / (10 << 20), abs=1)
    # a flat or noisy memory raises nothing
    assert advice(CostMeter(), 10, (0.0, 0.0), memory) == []


def test_low_utilization_needs_memory_held_and_time():
    meter = CostMeter(10.0)
    idle_gpu = [{"kind": "gpu", "utilization_gpu": 0, "memory_used": 100 << 20}]  # no memory held
    meter.add(60, idle_gpu)
    assert meter.low_seconds == 0
    held = [{"kind": "gpu", "utilization_gpu": 3, "memory_used": 8 << 30}]
    for _ in range(10):
        meter.add(60, held)
    assert meter.low_seconds == 600 and advice(meter, 10, None, {})[0]["kind"] == "low-utilization"
    meter.add(1, [{"kind": "gpu", "utilization_gpu": 95, "memory_used": 8 << 30}])
    assert meter.low_streak == 0 and advice(meter, 10, None, {}) == []


def test_usage_log_rotates(tmp_path):
    log = UsageLog(str(tmp_path / "u.jsonl"), interval=1, max_bytes=200, keep=2)
    for t in range(40):
        log.maybe_write(float(t), {"t": t, "pad": "x" * 30})
    assert (tmp_path / "u.jsonl.1").exists() and (tmp_path / "u.jsonl.2").exists()
    assert not (tmp_path / "u.jsonl.3").exists()
    assert (tmp_path / "u.jsonl").stat().st_size <= 200
    assert not log.maybe_write(39.5, {"t": 39.5})  # within the interval
