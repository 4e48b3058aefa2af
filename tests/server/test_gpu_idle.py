"""Why the GPU sits idle, diagnosed from replayed NVML readings and real CPU load, and the week's
accelerator hours against a budget."""

import json
import os
import time

import pytest
from colab_kernels import ColabKernel
from helpers import DATA

from colab_guard.contract.paths import user_folder
from colab_guard.readers.nvml import GpuReader
from colab_guard.readers.nvml_replay import ReplayNvml
from colab_guard.usage.diagnosis import diagnose
from colab_guard.usage.hours import accelerator_hours, with_budget

GiB = 1 << 30


def recording(tmp_path, base="a100x2", **device0) -> str:
    """A recorded box with its first GPU's answers changed (a variant of a real recording's format)."""
    with open(os.path.join(DATA, "nvml", f"{base}.json")) as f:
        data = json.load(f)
    data["devices"][0].update(device0)
    path = tmp_path / f"{base}-variant.json"
    path.write_text(json.dumps(data))
    return str(path)


def gpus(path):
    return GpuReader(ReplayNvml(path)).read().gpus


# -- the rules, on replayed readings


def test_each_cause_is_named_with_its_evidence_from_replayed_readings(tmp_path):
    a100 = gpus(os.path.join(DATA, "nvml", "a100x2.json"))  # 2 % busy holding 29 GiB of 40
    small = gpus(
        recording(tmp_path, memory={"total": 40 * GiB, "used": 2 * GiB, "free": 38 * GiB}, utilization={"gpu": 3, "memory": 1})
    )
    pcie = gpus(recording(tmp_path, pcie_rx=3_000_000, pcie_tx=20_000))  # KB/s, as NVML answers

    def run(g, **activity):
        return diagnose([{"gpus": g, **activity}] * 6, 10.0, 600)

    idle = run(a100, executing=False, idle_seconds=1500, cpu=1.0)
    assert idle.cause == "idle-kernel" and "No cell has run for 25 minutes" in idle.message
    assert idle.evidence["gpu_memory_held"] == 30114 << 20 and idle.evidence["gpu_utilization"] == 2

    pipeline = run(a100, executing=True, cpu=99.0, workers=0, workers_cpu=0.0)
    assert pipeline.cause == "input-pipeline" and "the kernel at 99% of a core" in pipeline.message
    workers = run(a100, executing=True, cpu=12.0, workers=4, workers_cpu=390.0)
    assert workers.cause == "input-pipeline" and "4 worker processes at 390% together" in workers.message
    unsaturated = run(a100, executing=True, cpu=12.0, workers=4, workers_cpu=150.0, cpus=8)
    assert unsaturated.cause == "unknown"  # workers with CPU to spare, GPU memory well used: not a usual cause
    # on Colab's two cores, two workers using both are saturated however many there are
    two_cores = run(a100, executing=True, cpu=12.0, workers=4, workers_cpu=180.0, cpus=2)
    assert two_cores.cause == "input-pipeline"

    batch = run(small, executing=True, cpu=30.0)
    assert batch.cause == "small-batch" and "uses 2.0 of its 40.0 GiB (5%)" in batch.message

    copies = run(pcie, executing=True, cpu=95.0)
    assert copies.cause == "host-to-device" and copies.evidence["pcie_rx_bytes_per_second"] == 3_000_000 * 1024
    assert "3.1 GB/s are copied from the host to the GPU" in copies.message

    nobody = run(a100, kernels=0)
    assert nobody.cause == "held-elsewhere"


def test_the_cause_is_what_happens_now_not_an_average_with_before(tmp_path):
    a100 = gpus(os.path.join(DATA, "nvml", "a100x2.json"))
    samples = [{"gpus": a100, "executing": False, "cpu": 1.0}] * 10 + [{"gpus": a100, "executing": True, "cpu": 99.0}] * 4
    # four samples into a CPU-bound cell after ten idle ones: the cell's cause, not the idle kernel's
    assert diagnose(samples).cause == "input-pipeline"
    # until three samples of the new state are in, the earlier cause stands
    assert diagnose(samples[:-2]).cause == "idle-kernel"
    assert diagnose(samples[:10]).cause == "idle-kernel"


# -- in a real kernel: replayed GPU readings, real CPU load

FAST = {"COLAB_GUARD_METER_INTERVAL": "0.25", "COLAB_GUARD_LOW_UTILIZATION_MINUTES": "0.02"}
ADVICE = "print(__import__('json').dumps(__import__('colab_guard').kernel.get_guard().meter.low_utilization()))"


@pytest.fixture
def gpu_kernel(tmp_path):
    made = []

    def start(path) -> ColabKernel:
        kernel = ColabKernel(tmp_path / f"k{len(made)}", COLAB_GPU="1", COLAB_GUARD_NVML_RECORDING=path, **FAST)
        made.append(kernel)
        return kernel

    yield start
    for kernel in made:
        kernel.stop()


SAMPLES = (
    "print(__import__('json').dumps([{k: v for k, v in s.items() if k != 'gpus'} "
    "for s in __import__('colab_guard').kernel.get_guard().meter.cost.streak_samples[-20:]]))"
)


def advice_after(kernel, cell: str) -> dict:
    out = kernel.run(f"{cell}\n{ADVICE}\n{SAMPLES}")
    assert out["error"] is None, out
    advice_line, samples_line = out["text"].strip().splitlines()[-2:]
    advice = json.loads(advice_line)
    seen = json.loads(samples_line)  # what the meter measured, for a failure's message
    assert advice is not None, f"no diagnosis; the meter's samples: {seen}"
    advice["samples_seen"] = seen
    return advice


def test_an_idle_kernel_holding_the_gpu_is_told_to_shut_down_without_running_a_cell(gpu_kernel):
    # Given a kernel on a GPU that sits at 2 % holding 29 GiB (replayed), and no cell running
    kernel = gpu_kernel(os.path.join(DATA, "nvml", "a100x2.json"))
    # When a little time passes (here 1.2 s stands for the 10 minutes of the default)
    messages = kernel.messages(4.0)
    # Then the notebook is told once, the cause named with its figures
    told = [
        m["content"]["data"]["text/plain"]
        for m in messages + kernel.other
        if m["msg_type"] == "display_data" and "colab-guard warning" in m["content"]["data"].get("text/plain", "")
    ]
    assert len(told) == 1, told
    assert "an idle kernel is keeping a paid accelerator" in told[0] and "29.4 GiB of GPU memory is held (GPU 2% busy)" in told[0]


def test_a_cpu_bound_cell_is_the_input_pipeline(gpu_kernel):
    # Given the same idle GPU
    kernel = gpu_kernel(os.path.join(DATA, "nvml", "a100x2.json"))
    # When a cell keeps the kernel's CPU busy (real load) while the GPU waits
    advice = advice_after(kernel, "import time\nt = time.time()\nwhile time.time() - t < 5: pass")
    # Then the input pipeline is named, with the kernel's measured CPU: what it wanted, whatever the
    # machine's other users left it (schedstat)
    assert advice["cause"] == "input-pipeline", advice
    evidence = advice["evidence"]
    assert evidence["cell_running_share"] == 1.0
    # what it wanted where the machine's kernel keeps scheduler statistics, else what it got
    if evidence["kernel_cpu_demand_known"]:
        assert evidence["kernel_cpu_demand_percent"] >= 85, advice
    else:
        assert evidence["kernel_cpu_demand_percent"] is None and evidence["kernel_cpu_percent"] >= 85, advice
    # (what the process got counts all its threads, so it may pass one core; the demand is its busiest thread's)
    assert evidence["kernel_cpu_percent"] > 0


def test_saturated_data_loader_workers_are_the_input_pipeline(gpu_kernel):
    # Given the same idle GPU
    kernel = gpu_kernel(os.path.join(DATA, "nvml", "a100x2.json"))
    # When the kernel waits on a worker process that keeps a core busy (real load)
    cell = "import subprocess, sys, time\nworker = subprocess.Popen([sys.executable, '-c', 'while True: pass'])\ntime.sleep(3.5)"
    try:
        advice = advice_after(kernel, cell)
    finally:
        kernel.run("worker.kill(); worker.wait()")
    # Then the workers are named as the bottleneck, not the kernel
    assert advice["cause"] == "input-pipeline", advice
    evidence = advice["evidence"]
    assert evidence["workers"] == 1 and evidence["workers_cpu_demand_percent"] >= 85
    assert evidence["kernel_cpu_demand_percent"] < 50


def test_little_gpu_memory_with_the_cpu_to_spare_is_a_small_batch(gpu_kernel, tmp_path):
    # Given a GPU at 3 % using 2 of its 40 GiB
    path = recording(tmp_path, memory={"total": 40 * GiB, "used": 2 * GiB, "free": 38 * GiB}, utilization={"gpu": 3, "memory": 1})
    kernel = gpu_kernel(path)
    # When a cell runs without keeping the CPU busy
    advice = advice_after(kernel, "import time; time.sleep(2.5)")
    # Then the batch is too small for this GPU
    assert advice["cause"] == "small-batch", advice
    assert advice["evidence"]["gpu_memory_used"] == 2 * GiB


def test_heavy_pcie_traffic_is_host_to_device_copies(gpu_kernel, tmp_path):
    # Given a GPU at 2 % receiving 3 GB/s over PCIe (NVML's counters, replayed)
    kernel = gpu_kernel(recording(tmp_path, pcie_rx=3_000_000, pcie_tx=10_000))
    # When a cell runs
    advice = advice_after(kernel, "import time; time.sleep(2.5)")
    # Then the copies are named
    assert advice["cause"] == "host-to-device", advice


# -- accelerator hours


def log_lines(now, minutes, host="colab-a", names=("Tesla T4",), start=0):
    return [
        json.dumps({"t": now - 60 * (start + i) - 30, "interval": 60, "host": host, "accelerators": list(names)})
        for i in range(minutes)
    ]


def test_accelerator_hours_count_each_minute_of_a_machine_once_over_the_last_seven_days():
    now = time.time()
    lines = (
        log_lines(now, 600)  # 10 h on one runtime
        + log_lines(now, 600)  # the same minutes, logged by a second kernel of that runtime
        + log_lines(now, 60, host="colab-b", names=("TPU v2-8",))  # another runtime at the same time
        + log_lines(now, 120, start=8 * 24 * 60)  # eight days ago
        + log_lines(now, 30, names=())  # no accelerator attached
        + ["not json", "{}"]
    )
    hours = accelerator_hours(lines, now)
    assert hours["hours"] == pytest.approx(11.0)
    assert hours["by_accelerator"] == {"Tesla T4": 10.0, "TPU v2-8": 1.0}
    budget = with_budget(hours, 12)
    assert budget["left"] == pytest.approx(1.0) and "11.0 of your 12 accelerator hours" in budget["warning"]
    assert with_budget(hours, 10)["warning"].endswith("past your budget of 10 h.")
    assert with_budget(hours, None)["warning"] is None


def test_a_colab_kernel_counts_the_weeks_hours_from_the_log_on_drive_against_the_budget_set(tmp_path):
    # Given a Drive where earlier runtimes' kernels logged 10 h of T4 and 1 h of TPU this week
    drive = tmp_path / "drive" / "MyDrive"
    folder = drive / "colab-guard" / "snapshots" / user_folder()
    folder.mkdir(parents=True)
    os.chmod(folder, 0o700)
    now = time.time()
    log = folder / "accelerators.jsonl"
    log.write_text("\n".join(log_lines(now, 600) + log_lines(now, 60, host="colab-b", names=("TPU v2-8",))) + "\n")
    os.chmod(log, 0o600)
    kernel = ColabKernel(tmp_path)
    try:
        # When the user sets a weekly budget of 12 h and asks for the status
        assert kernel.run("%guard config weekly_hours=12")["error"] is None
        text = kernel.plain("%guard status")
        # Then the hours are counted against it, with a warning past 80 %
        assert "Accelerator hours, last 7 days: 11.0 h of your 12 h weekly budget (1.0 h left)" in text, text
        assert "Warning: 11.0 of your 12 accelerator hours used in the last 7 days (1.0 h left)." in text
    finally:
        kernel.stop()
