"""The colab-guard server extension: every setting, and the sampler's life cycle."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, TraitError, Unicode, Union, default, validate

from . import handlers
from .host import CpuReader
from .memory import MemoryReader, parse_size
from .nvml import GpuReader
from .paths import default_snapshot_dir
from .sampler import Sampler


class ColabGuard(ExtensionApp):
    """colab-guard: accelerator, memory headroom and limits of this runtime, for JupyterLab and Colab."""

    name = "colab_guard"
    load_other_extensions = True

    sample_interval = Float(
        1.0,
        help="""Seconds between two samples of memory, CPU, disks and accelerators. Every request is
        answered from the latest sample, so this, not the number of clients polling, sets the cost.""",
    ).tag(config=True)

    memory_limit = Union(
        [Int(), Unicode()],
        default_value=None,
        allow_none=True,
        help="""The memory limit users must stay under, in bytes or with a unit ("12G", "12884901888").
        Set it where the real limit is enforced outside this container (e.g. Colab's 12 GiB on a larger
        VM). colab-guard reports the smallest of this, the container's cgroup limit, the spawner's
        MEM_LIMIT and the host's RAM, and says which one it is.""",
    ).tag(config=True)

    snapshot_dir = Unicode(
        help="""Directory for variable snapshots. Defaults to $COLAB_GUARD_SNAPSHOT_DIR, else
        colab-guard/snapshots on a mounted Google Drive (Colab), else colab_guard/snapshots under the
        Jupyter data dir.""",
    ).tag(config=True)

    nvml_recording = Unicode(
        "",
        help="""Testing and demos only: path to an NVML recording (made with `python -m
        colab_guard.nvml`) to replay instead of the real NVIDIA driver.""",
    ).tag(config=True)

    cgroup_root = Unicode("/sys/fs/cgroup", help="Where the cgroup filesystems are mounted.").tag(config=True)
    proc_root = Unicode("/proc", help="Where procfs is mounted.").tag(config=True)
    dev_root = Unicode("/dev", help="Where device files are (TPU detection).").tag(config=True)

    @default("snapshot_dir")
    def _default_snapshot_dir(self):
        return default_snapshot_dir()

    @validate("sample_interval")
    def _check_interval(self, proposal):
        if not 0.05 <= proposal.value <= 3600:
            raise TraitError(f"ColabGuard.sample_interval must be between 0.05 and 3600 s, not {proposal.value}")
        return proposal.value

    @validate("memory_limit")
    def _check_memory_limit(self, proposal):
        if proposal.value is None:
            return None
        try:
            return parse_size(proposal.value)
        except ValueError as exc:
            raise TraitError(f"ColabGuard.memory_limit: {exc}") from exc

    def initialize_settings(self):
        """Build the readers and start the one sampler of this server."""
        nvml = None
        if self.nvml_recording:
            from .nvml_replay import ReplayNvml

            nvml = ReplayNvml(self.nvml_recording)
        self.sampler = Sampler(
            memory=MemoryReader(self.cgroup_root, self.proc_root, config_limit=self.memory_limit),
            cpu=CpuReader(self.cgroup_root, self.proc_root),
            gpus=GpuReader(nvml),
            disk_paths={"root_dir": self.serverapp.root_dir, "snapshot_dir": self.snapshot_dir},
            interval=self.sample_interval,
            dev_root=self.dev_root,
        )
        self.sampler.start()
        self.log.info("colab-guard: sampling every %.2fs", self.sample_interval)

    def initialize_handlers(self):
        self.handlers.extend(handlers.ROUTES)

    async def stop_extension(self):
        """Stop the sampler with the server."""
        sampler = getattr(self, "sampler", None)
        if sampler is not None:
            sampler.stop()
