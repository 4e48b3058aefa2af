"""Colab first: real kernels started with Colab's environment, colab-guard loaded by hand, no server.

The kernel is the whole UI there: %guard status, monitor, cells and config are what the user has.
"""

import os
import re
import shutil
import time

import pytest
from colab_kernels import ColabKernel
from helpers import DATA

MB = 1_000_000
MiB = 1 << 20


@pytest.fixture
def colab(tmp_path):
    """Factory of Colab kernels under one runtime folder (a second kernel finds what the first left)."""
    made = []

    def start(**kwargs) -> ColabKernel:
        kernel = ColabKernel(tmp_path, **kwargs)
        made.append(kernel)
        return kernel

    yield start
    for kernel in made:
        kernel.stop()


def tpu_vm(tmp_path, chips=4):
    """A TPU VM's device files (/dev/accel0..N) in a tree the kernel is pointed at."""
    dev = tmp_path / "dev"
    dev.mkdir()
    for i in range(chips):
        (dev / f"accel{i}").write_text("")
    return str(dev)


def test_a_tpu_runtime_names_the_tpu_with_its_chips_and_the_tpu_node_note_never_cpu_only(colab, tmp_path):
    # Given a Colab TPU runtime: a TPU VM's variables and devices, and the retired COLAB_TPU_ADDR still set
    kernel = colab(
        COLAB_GUARD_DEV_ROOT=tpu_vm(tmp_path),
        TPU_ACCELERATOR_TYPE="v2-8",
        TPU_WORKER_ID="0",
        COLAB_TPU_ADDR="10.0.0.2:8470",
    )
    # When the user asks for the status
    text = kernel.plain("%guard status")
    # Then the TPU is named with its type and chips, with the note about the TPU Node architecture
    assert "Accelerator: TPU v2-8" in text, text
    assert "TPU v2-8: 4 chips, tpu-vm" in text
    assert "Note: COLAB_TPU_ADDR is set: this runtime still advertises the retired TPU Node architecture" in text
    # and never "CPU only", nor the missing NVIDIA driver as if it were the answer
    assert "CPU only" not in text and "No NVIDIA driver found" not in text
    # And the header says it is Colab, and that this kernel could not tell its notebook
    assert text.startswith("colab-guard · Colab · notebook unknown")


def test_a_gpu_runtime_names_its_gpu_from_a_replayed_recording_with_cost_from_rates(colab):
    # Given a Colab T4 runtime (the T4's NVML readings replayed) with a rate the user set
    kernel = colab(COLAB_GPU="1", COLAB_GUARD_NVML_RECORDING=os.path.join(DATA, "nvml", "t4.json"))
    assert kernel.run("%guard config rates='T4:1.96:compute units'")["error"] is None
    # When the user asks for the status
    text = kernel.plain("%guard status")
    # Then the GPU is named with its memory and utilisation, in the panel's words
    assert "Accelerator: Tesla T4 x1" in text, text
    assert "GPU 0: Tesla T4, memory 0.0/15.0 GiB, utilisation 0%" in text
    # And the cost so far is the rate over the runtime's age (Colab bills the hours a runtime is up)
    status = kernel.value("__import__('colab_guard').kernel.get_guard().status()")
    cost = status["cost"]
    assert cost["pattern"] == "T4" and cost["unit"] == "compute units"
    assert cost["hours"] == pytest.approx(status["runtime"]["age"] / 3600, abs=0.01)
    assert cost["accrued"] == pytest.approx(1.96 * cost["hours"], rel=0.01, abs=1e-4)
    assert "Cost so far:" in text and '/h for "T4" over' in text


def test_the_lifetime_countdown_moves_and_says_how_the_start_is_known(colab):
    # Given a Colab kernel, with no lifetime set: Colab's documented 12 hours
    kernel = colab()
    runtime = "__import__('colab_guard').kernel.get_guard().status()['runtime']"
    first = kernel.value(runtime)
    assert first["max_lifetime"] == 12 * 3600
    assert first["started_how"] == "when this runtime's first process (pid 1) started"
    # When time passes
    time.sleep(2.2)
    second = kernel.value(runtime)
    # Then the countdown has moved by that much, and its end has not
    assert 1.5 <= first["seconds_left"] - second["seconds_left"] <= 10
    assert second["ends_at"] == first["ends_at"]
    text = kernel.plain("%guard status")
    assert "Runtime ends in " in text and "of its maximum 12 h (Colab's documented maximum" in text
    # And the idle disconnect is said to be Colab's front end's, not counted down from a guess
    assert "Idle disconnect: Colab's idle disconnect is decided by its front end in your browser" in text
    # And a lifetime the user sets applies at once
    assert kernel.run("%guard config max_lifetime=1h")["error"] is None
    third = kernel.value(runtime)
    # (11 hours less than with 12 hours, or none left where this machine's pid 1 is older than an hour)
    assert third["max_lifetime"] == 3600
    assert third["seconds_left"] == pytest.approx(max(0.0, first["seconds_left"] - 11 * 3600), abs=15)


def test_cells_names_the_cell_that_allocated_300_mb_with_about_that_figure(colab, memory_cgroup):
    # Given a Colab kernel in a container of its own (a real memory cgroup of 2 GiB)
    kernel = colab(cgroup=memory_cgroup(2 << 30))
    assert kernel.run("import numpy as np")["error"] is None
    # When one cell allocates 300 MB and another a little
    assert kernel.run("block = np.ones(300_000_000 // 8)")["error"] is None
    assert kernel.run("small = list(range(1000))")["error"] is None
    # Then %guard cells lists both with their first lines, the first with about 300 MB
    text = kernel.plain("%guard cells")
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith("[")}
    (big,) = [row for row in rows.values() if "block = np.ones(300_000_000 // 8)" in row]
    assert "small = list(range(1000))" in text
    most = re.search(r"The cell that grew memory most: \[\d+\] `block = np\.ones\(300_000_000 // 8\)` \(\+([\d.]+) MiB", text)
    assert most and float(most.group(1)) == pytest.approx(286.1, rel=0.05), text  # 300 MB is 286.1 MiB
    cells = kernel.value("[c.to_dict() for c in __import__('colab_guard').kernel.get_guard().cells.recent()]")
    (cell,) = [c for c in cells if c["first_line"].startswith("block")]
    # the container's working set and the kernel's own resident memory both grew by about 300 MB
    assert cell["growth"] == pytest.approx(300 * MB, rel=0.1), cell
    assert cell["rss_growth"] == pytest.approx(300 * MB, rel=0.1), cell
    assert cell["rss_peak"] >= cell["rss_before"] + 290 * MB and cell["peak_exact"]
    assert re.search(r"\+(28[0-9]|29[0-9])\.\d MiB", big), big


def warnings_in(kernel, *outs) -> list[str]:
    """Every colab-guard message the kernel showed: in the cells given, or from its threads elsewhere."""
    bundles = [d for out in outs for d in out["data"]]
    bundles += [m["content"]["data"] for m in kernel.other if m["msg_type"] == "display_data"]
    return [b.get("text/plain", "") for b in bundles if b.get("text/plain", "").startswith("colab-guard")]


def test_config_changes_a_threshold_the_watcher_then_uses_and_a_new_kernel_remembers_it(colab, memory_cgroup):
    # Given a Colab kernel in a 1 GiB container, where one cell took 300 MB (about 30 %)
    kernel = colab(cgroup=memory_cgroup(1 << 30))
    assert kernel.run("import numpy as np")["error"] is None
    assert kernel.run("block = np.ones(300_000_000 // 8)")["error"] is None
    time.sleep(1.5)
    assert warnings_in(kernel) == []  # under the default 75 %: nothing to say
    # When the user lowers the warning level under that, from the notebook
    out = kernel.run("%guard config warn_percent=20")
    assert out["error"] is None and "warn_percent = 20 for this kernel now; remembered for your next kernels in" in out["text"]
    # Then the watcher warns at its next reading, naming the cell that took the memory
    waited = kernel.run("import time; time.sleep(2.5)")
    # (a second warning may follow when the watcher saw the 300 MB arrive fast: it names the cell too)
    (warning,) = [w for w in warnings_in(kernel, out, waited) if "Memory is high" in w and " But " not in w]
    # (cells are numbered as IPython counts them, which differs between IPython versions)
    assert re.search(
        r"The cell that grew memory most: \[\d+\] `block = np\.ones\(300_000_000 // 8\)` \(\+28\d\.\d MiB", warning
    ), warning
    # And values that do not fit are refused with the reason, changing nothing
    for command, message in [
        ("%guard config warn_percent=lots", "warn_percent is a number, not 'lots'"),
        ("%guard config warn_percent=90", "thresholds must satisfy 0 < warn (90.0) <= snapshot (85.0)"),
        ("%guard config max_lifetime=soon", "'soon' is not a duration"),
        ("%guard config rates=T4", "rates: 'T4' is not PATTERN:RATE"),
        ("%guard config colour=blue", "colab-guard has no setting 'colour'"),
    ]:
        refused = kernel.run(command)
        assert message in refused["text"], (command, refused)
    assert kernel.value("__import__('colab_guard').kernel.get_guard().settings.warn_percent") == 20

    # And a new kernel of the runtime starts with the remembered value, saying where it comes from
    second = colab()
    assert second.value("__import__('colab_guard').kernel.get_guard().settings.warn_percent") == 20
    shown = second.plain("%guard config")
    remembered = os.path.join(second.root, "drive", "MyDrive", "colab-guard", "colab_guard_kernel.json")
    (line,) = [line for line in shown.splitlines() if line.strip().startswith("warn_percent")]
    assert line.split()[1] == "20" and f"remembered ({remembered})" in line, shown


def test_monitor_updates_its_line_in_place_until_stopped(colab):
    # Given a Colab kernel
    kernel = colab()
    # When the user starts the monitor, updating every second
    out = kernel.run("%guard monitor 1")
    assert out["error"] is None
    (shown,) = out["displays"]
    display_id = shown["transient"]["display_id"]
    assert shown["data"]["text/plain"].startswith("colab-guard · CPU · RAM ")
    # Then the same line is updated in place while nothing runs, then while a cell runs
    idle = [m["content"] for m in kernel.messages(3.5) if m["msg_type"] == "update_display_data"]
    running = kernel.run("import time; time.sleep(3.5)")
    busy = running["updates"] + [m["content"] for m in kernel.other if m["msg_type"] == "update_display_data"]
    assert len(idle) >= 2 and all(u["transient"]["display_id"] == display_id for u in idle + busy)
    assert all("ends in " in u["data"]["text/plain"] for u in idle)
    assert any(" · cell [" in u["data"]["text/plain"] for u in busy), busy
    # And %guard monitor off stops it
    assert "Monitor stopped." in kernel.run("%guard monitor off")["text"]
    time.sleep(1.2)
    kernel.messages(0.2)
    assert [m for m in kernel.messages(2.5) if m["msg_type"] == "update_display_data"] == []


def test_two_notebooks_that_cannot_tell_who_they_are_never_restore_each_others_variables(colab):
    # Given two kernels of one Colab runtime with no notebook name to be had (no session list answers)
    first, second = colab(), colab()
    out = first.run("secret = 'of the first notebook'\n%guard snapshot")
    assert out["error"] is None and "Saved 1 variables" in out["text"], out
    snapshot = first.value("__import__('colab_guard').kernel.get_guard().snapshots()[0]['id']")
    # When the second one restores without naming a snapshot
    out = second.run("%guard restore")
    # Then it refuses, says why and lists what there is, and loads nothing
    assert "this kernel does not know which notebook it runs" in out["text"], out
    assert snapshot in out["text"] and "%guard restore SNAPSHOT" in out["text"]
    assert "NameError" in second.run("secret")["error"]
    # And the user may still name it: their choice, not a guess
    out = second.run(f"%guard restore {snapshot}\nprint(secret)")
    assert out["error"] is None and "of the first notebook" in out["text"], out
    # While the first kernel restores its own snapshot as before
    assert first.run("del secret\n%guard restore\nprint(secret)")["text"].strip().endswith("of the first notebook")


def test_an_unusable_snapshot_folder_is_refused_and_a_broken_remembered_one_falls_back(colab, tmp_path):
    # Given a Colab kernel with its default snapshot folder
    kernel = colab()
    before = kernel.value("__import__('colab_guard').kernel.get_guard().snapshot_dir")
    # When the user points the snapshots at folders that cannot hold them
    for folder in ("/proc/1/nonexistent", "/dev/null/snapshots"):
        out = kernel.run(f"%guard config snapshot_dir={folder}")
        # Then each is refused with the reason, and nothing changes nor is remembered
        assert f"snapshot_dir '{folder}' cannot hold snapshots" in out["text"] and "nothing was changed" in out["text"], out
    assert kernel.value("__import__('colab_guard').kernel.get_guard().snapshot_dir") == before
    # When a working folder is remembered, then stops working before the next kernel starts
    usable = tmp_path / "usable"
    out = kernel.run(f"%guard config snapshot_dir={usable}")
    assert "remembered for your next kernels" in out["text"], out
    shutil.rmtree(usable)
    usable.write_text("now a file")
    second = colab()
    # Then the next kernel keeps its snapshots in the default folder and says why in its first cell
    said = second.plain("y = 2")
    assert f"snapshot_dir '{usable}' cannot hold snapshots: it is a file" in said and f"snapshots in {before} instead" in said, (
        said
    )
    assert second.value("__import__('colab_guard').kernel.get_guard().snapshot_dir") == before
    assert "Saved 1 variables" in second.plain("%guard snapshot")


def test_a_cell_that_needed_more_than_is_free_is_preceded_by_a_snapshot(colab, memory_cgroup):
    # Given a Colab kernel in a real 1 GiB container, where a cell once added 600 MB and let it go
    group = memory_cgroup(1 << 30)
    kernel = colab(cgroup=group)
    cell = "big = np.ones(size // 8)\ntotal = float(big.sum())\ndel big"
    assert kernel.run("import numpy as np\nsize = 600_000_000")["error"] is None
    assert kernel.run(cell)["error"] is None
    # When the notebook now holds 450 MB more and the same cell runs again (this time it needs little)
    assert (
        kernel.run("held = np.ones(450_000_000 // 8)\nnames = [str(i) for i in range(1000)]\nsize = 8_000_000")["error"] is None
    )
    out = kernel.run(cell)
    # Then, before it ran, the user was told what it needed last time against what is free
    said = [d.get("text/plain", "") for d in out["data"]]
    warning = next((text for text in said if "Last time this cell added" in text), None)
    assert warning is not None, said
    assert re.search(r"Last time this cell added 5\d\d\.\d MiB to memory; [\d.]+ MiB are free before the limit", warning), warning
    # And a snapshot with every variable was complete before it ran, below 85 %
    snaps = kernel.value(
        "[(s['reason'], s['memory']['percent'], sorted(s['variables'])) "
        "for s in __import__('colab_guard').kernel.get_guard().snapshots()]"
    )
    before = [s for s in snaps if s[0] == "before a cell that needed more memory than is free"]
    assert before and before[0][1] < 85 and {"held", "names", "size"} <= set(before[0][2]), snaps


@pytest.mark.parametrize("load", ["records", "arrays"])
def test_a_data_load_that_stops_well_below_the_limit_raises_no_alarm(colab, memory_cgroup, load):
    # Given a Colab kernel in a real 1.5 GiB container
    kernel = colab(cgroup=memory_cgroup(3 << 29))
    # When a cell loads data fast (hundreds of MB/s) and stops near 40 % of the limit
    cell = {
        "records": "records = [{'user': f'user-{i}', 'n': i, 'score': i * 0.5} for i in range(1_300_000)]",
        "arrays": "import numpy as np\nparts = [np.ones(25_000_000 // 8) for _ in range(24)]",
    }[load]
    out = kernel.run(cell)
    time.sleep(1.0)
    # Then nothing was said: no "memory is high", no "stop the cell"
    assert out["error"] is None, out
    assert warnings_in(kernel, out) == []
