"""Files and answers colab-guard did not write itself: a bad one costs that one item, never the feature."""

import http.server
import os
import threading
import time

import pytest

from colab_guard.contract.heartbeat import heartbeat_path, read_heartbeat
from colab_guard.contract.ownership import notebook_dir
from colab_guard.kernel.gpu_oom import kernels_by_pid
from colab_guard.kernel.identity import ask_sessions


@pytest.mark.parametrize("text", ["[" * 5000, "{" * 100_000, '{"pid": ', "\xff\xfe", '"just a string"'])
def test_a_broken_heartbeat_is_skipped_and_the_others_still_count(tmp_path, text):
    folder = str(tmp_path)
    notebook_dir(folder, "bad.ipynb", create=True)
    with open(heartbeat_path(folder, "bad.ipynb"), "w", encoding="latin-1") as f:
        f.write(text)
    os.chmod(heartbeat_path(folder, "bad.ipynb"), 0o600)
    notebook_dir(folder, "good.ipynb", create=True)
    with open(heartbeat_path(folder, "good.ipynb"), "w") as f:
        f.write('{"pid": 4242, "notebook": "good.ipynb"}')
    os.chmod(heartbeat_path(folder, "good.ipynb"), 0o600)
    assert read_heartbeat(folder, "bad.ipynb") is None
    assert list(kernels_by_pid(folder)) == [4242]


class Answers(http.server.BaseHTTPRequestHandler):
    """A sessions endpoint that drips its answer, or answers deeply nested JSON."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.path.startswith("/drip"):
            for _ in range(20):
                self.wfile.write(b"[       ")
                self.wfile.flush()
                time.sleep(0.6)
        else:
            self.wfile.write(b"[" * 100_000)

    def log_message(self, *args):
        pass


@pytest.fixture
def answers():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_notebook_lookup_gives_up_at_its_deadline_however_the_server_drips(answers):
    started = time.monotonic()
    assert ask_sessions(f"{answers}/drip", "kernel-id", timeout=1.0) is None
    assert time.monotonic() - started < 1.5


def test_the_notebook_lookup_refuses_nested_json(answers):
    assert ask_sessions(f"{answers}/nested", "kernel-id", timeout=2.0) is None


def test_a_kernel_where_colab_guard_could_not_start_survives_the_servers_signal(tmp_path):
    import signal

    from colab_kernels import ColabKernel

    # Given a kernel whose colab-guard settings are out of order, so the extension refuses to start
    kernel = ColabKernel(tmp_path, load=False, COLAB_GUARD_WARN_PERCENT="99")
    try:
        out = kernel.run("%load_ext colab_guard")
        assert "thresholds must satisfy" in out["text"] + str(out["error"]), out
        # When the server asks it for a snapshot before a shutdown (SIGUSR1)
        os.kill(kernel.pid, signal.SIGUSR1)
        time.sleep(0.5)
        # Then the kernel lives on
        assert kernel.manager.provisioner.process.poll() is None
        assert kernel.run("print(1 + 1)")["text"] == "2\n"
    finally:
        kernel.stop()
