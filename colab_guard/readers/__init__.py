"""Readers of the machine: cgroup, memory limit, NVML GPUs (and their replay), TPUs, host CPU and disks, environment.

Shared by the server's sampler and the kernel's watcher; none of them imports the other parts.
"""
