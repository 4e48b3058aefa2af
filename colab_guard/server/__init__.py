"""The jupyter_server extension: one sampler, the REST endpoints, sessions and countdowns, kernels launched with the watcher.

It reads what kernels write through ``colab_guard.contract`` and never imports the snapshot engine.
"""
