"""The colab-guard server extension: every setting, and the sampler's life cycle."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, TraitError, Unicode, Union, default, validate

from . import handlers
from .host import CpuReader
from .kernels import KernelLauncher
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

    kernel_watcher = Bool(
        True,
        help="""Load colab-guard's memory watcher (`--ext=colab_guard`) into the IPython kernels this
        server starts. It snapshots the variables before the OOM killer strikes and adds %guard.""",
    ).tag(config=True)

    warn_percent = Float(75.0, help="Warn the user when the working set passes this percent of the limit.").tag(config=True)
    snapshot_percent = Float(
        85.0, help="Snapshot the kernel's variables when the working set passes this percent of the limit."
    ).tag(config=True)
    keep_snapshots = Int(3, help="Snapshots kept per notebook; older ones are deleted.").tag(config=True)

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

    @validate("warn_percent", "snapshot_percent")
    def _check_percent(self, proposal):
        if not 0 < proposal.value <= 100:
            raise TraitError(f"ColabGuard.{proposal.trait.name} must be a percent in (0, 100], not {proposal.value}")
        return proposal.value

    @validate("keep_snapshots")
    def _check_keep(self, proposal):
        if proposal.value < 1:
            raise TraitError("ColabGuard.keep_snapshots must be at least 1")
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
        if self.warn_percent > self.snapshot_percent:
            raise TraitError("ColabGuard.warn_percent must not be above ColabGuard.snapshot_percent")
        self.kernels = KernelLauncher(self)
        self.kernels.install()
        for report in self.kernels.scan_previous_session():
            self.log.warning(
                "colab-guard: the previous kernel of %s likely died of the OOM killer at %.0f%% of its memory limit",
                report["notebook"] or "a session",
                report["percent"] or 0,
            )

    def kernel_env(self) -> dict[str, str]:
        """The watcher's settings, passed to the kernels this server starts."""
        env = {
            "COLAB_GUARD_SNAPSHOT_DIR": self.snapshot_dir,
            "COLAB_GUARD_WARN_PERCENT": str(self.warn_percent),
            "COLAB_GUARD_SNAPSHOT_PERCENT": str(self.snapshot_percent),
            "COLAB_GUARD_KEEP": str(self.keep_snapshots),
        }
        if self.memory_limit:
            env["COLAB_GUARD_MEMORY_LIMIT"] = str(self.memory_limit)
        return env

    def initialize_handlers(self):
        self.handlers.extend(handlers.ROUTES)

    async def stop_extension(self):
        """Stop the sampler with the server."""
        sampler = getattr(self, "sampler", None)
        if sampler is not None:
            sampler.stop()
        kernels = getattr(self, "kernels", None)
        if kernels is not None:
            kernels.uninstall()
