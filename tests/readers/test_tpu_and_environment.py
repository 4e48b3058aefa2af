"""TPU detection from device files and variables, and where the server runs."""

from helpers import write_tree

from colab_guard.readers.environment import detect_environment
from colab_guard.readers.tpu import TPU_NODE_NOTE, detect_tpu


def test_no_tpu(tmp_path):
    assert detect_tpu({}, str(tmp_path)) == ([], [])


def test_tpu_vm_with_accel_devices(tmp_path):
    dev = write_tree(tmp_path, {f"accel{i}": "" for i in range(4)})
    (tpu,), notes = detect_tpu({"TPU_ACCELERATOR_TYPE": "v2-8", "TPU_WORKER_ID": "0"}, dev)
    assert notes == []
    assert tpu["kind"] == "tpu" and tpu["name"] == "TPU v2-8" and tpu["accelerator_type"] == "v2-8"
    assert tpu["chips"] == 4 and tpu["devices"] == [f"{dev}/accel{i}" for i in range(4)]
    assert tpu["architecture"] == "tpu-vm"
    assert tpu["env"] == {"TPU_ACCELERATOR_TYPE": "v2-8", "TPU_WORKER_ID": "0"}


def test_vfio_attached_tpu(tmp_path):
    dev = write_tree(tmp_path, {"vfio/0": "", "vfio/1": "", "vfio/vfio": ""})
    (tpu,), _ = detect_tpu({}, dev)
    assert tpu["chips"] == 2 and tpu["name"] == "TPU"


def test_colab_tpu_addr_gets_the_tpu_node_note(tmp_path):
    (tpu,), notes = detect_tpu({"COLAB_TPU_ADDR": "10.0.0.2:8470"}, str(tmp_path))
    assert notes == [TPU_NODE_NOTE]
    assert "retired" in notes[0] and "tpu='local'" in notes[0]
    assert tpu["architecture"] == "tpu-node (retired)"


def test_libtpu_alone_is_not_a_tpu(tmp_path):
    lib = write_tree(tmp_path, {"lib/libtpu.so": ""})
    assert detect_tpu({"TPU_LIBRARY_PATH": f"{lib}/lib/libtpu.so"}, str(tmp_path / "dev")) == ([], [])


def test_libtpu_found_by_path(tmp_path):
    write_tree(tmp_path, {"dev/accel0": "", "lib/libtpu.so": ""})
    (tpu,), _ = detect_tpu({"TPU_LIBRARY_PATH": f"{tmp_path}/lib/libtpu.so"}, f"{tmp_path}/dev")
    assert tpu["libtpu"] is True and tpu["libtpu_path"] == f"{tmp_path}/lib/libtpu.so"


def test_environment_kinds():
    assert detect_environment({})["kind"] == "local"
    colab = detect_environment({"COLAB_RELEASE_TAG": "release-colab_20261101-060000_RC00"})
    assert colab["kind"] == "colab" and colab["colab_release"].startswith("release-colab")
    hub = detect_environment({"JUPYTERHUB_USER": "ada", "JUPYTERHUB_API_TOKEN": "secret"})
    assert hub["kind"] == "jupyterhub" and hub["user"] == "ada"
    assert "secret" not in str(hub)
