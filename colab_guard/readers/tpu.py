"""Detect Cloud TPUs without importing JAX or TensorFlow (importing either would claim the TPU)."""

from __future__ import annotations

import glob
import importlib.util
import os
from collections.abc import Mapping
from typing import Any

# Variables that TPU VM images and Colab set; reported as found, never interpreted further.
TPU_ENV_VARS = (
    "TPU_ACCELERATOR_TYPE",
    "TPU_NAME",
    "TPU_WORKER_ID",
    "TPU_WORKER_HOSTNAMES",
    "TPU_CHIPS_PER_HOST_BOUNDS",
    "TPU_HOST_BOUNDS",
    "TPU_LIBRARY_PATH",
    "TPU_SKIP_MDS_QUERY",
    "COLAB_TPU_ADDR",
)

# libtpu's own settings: images that merely ship libtpu set these too, so they are no evidence of a TPU.
LIBTPU_SETTINGS = ("TPU_LIBRARY_PATH", "TPU_SKIP_MDS_QUERY")

TPU_NODE_NOTE = (
    "COLAB_TPU_ADDR is set: this runtime still advertises the retired TPU Node architecture "
    "(a remote TPU reached over grpc://). Colab TPUs are now TPU VMs with the chips attached "
    "locally: JAX finds them by itself, TensorFlow needs "
    "tf.distribute.cluster_resolver.TPUClusterResolver(tpu='local'); code that connects to "
    "COLAB_TPU_ADDR will fail."
)


def detect_tpu(env: Mapping[str, str] | None = None, dev_root: str = "/dev") -> tuple[list[dict[str, Any]], list[str]]:
    """Return (accelerators, notes): one ``kind: "tpu"`` entry when any TPU evidence is present."""
    env = os.environ if env is None else env
    devices = sorted(glob.glob(os.path.join(dev_root, "accel[0-9]*")))
    # TPU v5e and later attach through VFIO rather than the accel driver.
    vfio = sorted(p for p in glob.glob(os.path.join(dev_root, "vfio", "[0-9]*")))
    found_env = {k: env[k] for k in TPU_ENV_VARS if env.get(k)}
    libtpu = _libtpu_location(env)
    notes = [TPU_NODE_NOTE] if "COLAB_TPU_ADDR" in found_env else []
    if not (devices or vfio or set(found_env) - set(LIBTPU_SETTINGS)):
        return [], notes  # libtpu alone (a pip dependency of jax[tpu]) is no TPU
    entry: dict[str, Any] = {
        "kind": "tpu",
        "name": _name(found_env),
        "accelerator_type": found_env.get("TPU_ACCELERATOR_TYPE"),
        "architecture": "tpu-node (retired)" if "COLAB_TPU_ADDR" in found_env and not (devices or vfio) else "tpu-vm",
        "devices": devices + vfio,
        "chips": len(devices) or len(vfio) or None,
        "env": found_env,
        "libtpu": libtpu is not None,
        "libtpu_path": libtpu,
    }
    return [entry], notes


def _name(found_env: Mapping[str, str]) -> str:
    kind = found_env.get("TPU_ACCELERATOR_TYPE")
    return f"TPU {kind}" if kind else "TPU"


def _libtpu_location(env: Mapping[str, str]) -> str | None:
    """Where libtpu is, found by path or package spec without importing it."""
    explicit = env.get("TPU_LIBRARY_PATH")
    if explicit and os.path.exists(explicit):
        return explicit
    for name in ("libtpu", "libtpu_nightly"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return spec.origin or (list(spec.submodule_search_locations or []) or [name])[0]
    for path in ("/lib/libtpu.so", "/usr/lib/libtpu.so", "/usr/local/lib/libtpu.so"):
        if os.path.exists(path):
            return path
    return None
