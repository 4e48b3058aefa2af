"""Every kind of accelerator behind one protocol: readings combined in one place."""

import os

from helpers import DATA

from colab_guard.readers.accelerators import AcceleratorReading, Accelerators, CloudTpus, NvidiaGpus, combine
from colab_guard.readers.nvml import GpuReader
from colab_guard.readers.nvml_replay import ReplayNvml


class OtherGpus:
    """A reader of another kind, as a new file would add one (an AMD reader, say)."""

    kind = "rocm"

    def __init__(self, reading):
        self.reading, self.closed = reading, False

    def read(self):
        return self.reading

    def shutdown(self):
        self.closed = True


def test_a_new_kind_of_accelerator_is_one_more_reader(tmp_path):
    # Given a recorded T4, no TPU, and a reader of another kind that finds one device
    other = OtherGpus(AcceleratorReading("ok", [{"kind": "gpu", "name": "AMD Instinct MI300X"}]))
    t4 = NvidiaGpus(GpuReader(ReplayNvml(os.path.join(DATA, "nvml", "t4.json"))))
    accelerators = Accelerators([t4, CloudTpus({}, str(tmp_path)), other])
    # When they are read together
    found = accelerators.read()
    # Then every device is listed, in the readers' order, with one status
    assert [d["name"] for d in found.accelerators] == ["Tesla T4", "AMD Instinct MI300X"]
    assert (found.status, found.error) == ("ok", None)
    accelerators.shutdown()
    assert other.closed


def test_a_failure_is_said_before_what_other_kinds_found_and_a_missing_driver_only_where_nothing_is_found():
    ok = AcceleratorReading("ok", [{"kind": "tpu", "name": "TPU v2-8"}])
    failed = AcceleratorReading("error", error="NVML: GPU is lost")
    no_driver = AcceleratorReading("no-driver", error="no NVIDIA driver")
    assert (combine({"gpu": failed, "tpu": ok}).status, combine({"gpu": failed, "tpu": ok}).error) == (
        "error",
        "NVML: GPU is lost",
    )
    assert combine({"gpu": no_driver, "tpu": ok}).status == "ok"
    assert (combine({"gpu": no_driver, "tpu": AcceleratorReading("none")}).status) == "no-driver"
    assert combine({"gpu": AcceleratorReading("none"), "tpu": AcceleratorReading("none")}).status == "none"
