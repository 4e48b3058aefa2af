"""The NVML boundary, fed recorded readings, and its real no-driver path on this GPU-less machine."""

import pynvml
import pytest

from colab_guard.readers.nvml import GpuReader
from colab_guard.readers.nvml_replay import ReplayNvml

MiB = 1 << 20


def test_t4_box(nvml_recording):
    reading = GpuReader(ReplayNvml(nvml_recording("t4"))).read()
    assert reading.status == "ok" and reading.error is None
    assert reading.driver_version == "535.104.05"
    (gpu,) = reading.gpus
    assert gpu["kind"] == "gpu" and gpu["index"] == 0
    assert gpu["name"] == "Tesla T4"
    assert gpu["uuid"].startswith("GPU-")
    assert (gpu["memory_total"], gpu["memory_used"]) == (15360 * MiB, 3 * MiB)
    assert (gpu["utilization_gpu"], gpu["utilization_memory"]) == (0, 0)
    assert gpu["temperature_c"] == 44
    assert gpu["power_draw_w"] == pytest.approx(9.523) and gpu["power_limit_w"] == 70.0
    assert gpu["processes"] == []


def test_a100_box_with_processes_and_unsupported_fields(nvml_recording):
    reading = GpuReader(ReplayNvml(nvml_recording("a100x2"))).read()
    assert reading.status == "ok"
    first, second = reading.gpus
    assert [g["name"] for g in reading.gpus] == ["NVIDIA A100-SXM4-40GB"] * 2
    assert [g["index"] for g in reading.gpus] == [0, 1]
    assert first["utilization_gpu"] == 2
    # compute processes with their memory; graphics processes unsupported -> simply none listed
    assert first["processes"] == [
        {"pid": 4242, "used_memory": 22016 * MiB, "type": "compute"},
        {"pid": 4343, "used_memory": 7680 * MiB, "type": "compute"},
    ]
    # a sensor NVML does not support becomes null, not an error
    assert second["power_draw_w"] is None and second["power_limit_w"] == 400.0


def test_no_driver_on_this_machine_is_the_real_library_not_found_path():
    # Given the real pynvml on a machine without libnvidia-ml
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        pytest.skip("an NVIDIA driver is present on this machine")
    except pynvml.NVMLError_LibraryNotFound:
        pass
    # When the reader reads
    reading = GpuReader().read()
    # Then it says so plainly, without raising
    assert reading.status == "no-driver"
    assert "no NVIDIA driver" in reading.error and reading.gpus == []


def test_init_failure_is_not_retried_every_sample(nvml_recording):
    now = [0.0]
    nvml = ReplayNvml(nvml_recording("t4"))
    nvml.init_error = pynvml.NVML_ERROR_DRIVER_NOT_LOADED
    reader = GpuReader(nvml, retry_seconds=30, clock=lambda: now[0])
    assert reader.read().status == "no-driver"
    calls = nvml.calls
    now[0] = 10
    assert reader.read().status == "no-driver" and nvml.calls == calls  # cached, NVML not touched
    # When the driver comes back and the retry time has passed, the GPU appears
    nvml.init_error = None
    now[0] = 31
    assert reader.read().status == "ok"


def test_other_init_errors_are_errors_with_the_message(nvml_recording):
    nvml = ReplayNvml(nvml_recording("t4"))
    nvml.init_error = pynvml.NVML_ERROR_NO_PERMISSION
    reading = GpuReader(nvml).read()
    assert reading.status == "error" and "Insufficient Permissions" in reading.error


def test_zero_devices_is_none():
    reading = GpuReader(ReplayNvml({"driver_version": "550.1", "devices": []})).read()
    assert reading.status == "none" and reading.gpus == []


def test_gpu_lost_mid_run_then_recovers(nvml_recording):
    # Given a working T4
    nvml = ReplayNvml(nvml_recording("t4"))
    reader = GpuReader(nvml, retry_seconds=0)
    assert reader.read().status == "ok"
    # When it falls off the bus
    nvml.fail_with = pynvml.NVML_ERROR_GPU_IS_LOST
    reading = reader.read()
    assert reading.status == "error" and "GPU is lost" in reading.error
    # Then the reader re-initialises and recovers once the device answers again
    nvml.fail_with = None
    assert reader.read().status == "ok"


def test_handles_are_cached_between_reads(nvml_recording):
    nvml = ReplayNvml(nvml_recording("t4"))
    reader = GpuReader(nvml)
    reader.read()
    first = nvml.calls
    reader.read()
    per_read = nvml.calls - first
    # a steady-state read makes only the nine device queries: no init, no count, no handle lookups
    assert per_read == 9
