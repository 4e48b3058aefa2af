"""The fleet view: colab-guard's metrics through a real Prometheus, the shipped dashboard and deployment files.

Prometheus and promtool are Debian's `prometheus` package (scripts/test.sh installs it); the tests
that need them skip with the reason where they are missing. Debian builds Prometheus without
Kubernetes service discovery, so the scrape job of deploy/prometheus/kubernetes.yml runs here with
its `kubernetes_sd_configs` swapped for a `file_sd_configs` that describes the pods with the same
`__meta_kubernetes_pod_*` labels Kubernetes discovery gives: its relabelling, path and token are
the shipped ones, scraping real single-user servers of a real JupyterHub.
"""

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
import yaml
from hub_helpers import free_port, start_hub, stop_hub
from kernel_helpers import start_notebook_kernel
from live_server import LiveServer, isolated_env

from colab_guard.contract.files import write_json_atomic
from colab_guard.contract.paths import notebook_key, user_root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(REPO, "deploy")
DASHBOARD = os.path.join(DEPLOY, "grafana", "colab-guard-fleet.json")
PLAIN_CONFIG = os.path.join(DEPLOY, "prometheus", "plain-server.yml")
K8S_CONFIG = os.path.join(DEPLOY, "prometheus", "kubernetes.yml")
K8S_VALUES = os.path.join(DEPLOY, "kubernetes", "values-colab-guard.yaml")
K8S_GUIDE = os.path.join(DEPLOY, "kubernetes", "README.md")
ADMIN_FILE = os.path.join(DEPLOY, "kubernetes", "colab-guard.json")
NVML_A100X2 = os.path.join(REPO, "tests", "data", "nvml", "a100x2.json")

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def needs_promtool(test):
    return pytest.mark.prometheus(
        pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")(test)
    )


def needs_prometheus(test):
    return pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed (Debian: apt-get install prometheus)")(
        needs_promtool(test)
    )


# every metric colab-guard exposes: each must be on /metrics, and promtool must find nothing in it
COLAB_GUARD_METRICS = {
    "colab_guard_server_info": "gauge",
    "colab_guard_memory_working_set_bytes": "gauge",
    "colab_guard_memory_limit_bytes": "gauge",
    "colab_guard_memory_headroom_bytes": "gauge",
    "colab_guard_gpu_utilization_percent": "gauge",
    "colab_guard_gpu_memory_used_bytes": "gauge",
    "colab_guard_gpu_memory_total_bytes": "gauge",
    "colab_guard_snapshots": "gauge",
    "colab_guard_kernel_oom_kills": "gauge",
    "colab_guard_kernels_oom_killed_total": "counter",
    "colab_guard_previous_session_oom_kills": "gauge",
    "colab_guard_cgroup_oom_kills_total": "counter",
    "colab_guard_kernel_seconds_to_cull": "gauge",
}
# where the machine has no readable memory cgroup, there is no cgroup OOM counter to report
MACHINE_DEPENDENT = {"colab_guard_cgroup_oom_kills_total"}


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], input=stdin, capture_output=True, text=True, timeout=60)


# -- (a) promtool on a real server's /metrics


class TestPromtoolOnMetrics:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, tmp_path, monkeypatch):
        # a hub user's named server with two (recorded) GPUs and a kernel culler: every metric has samples
        monkeypatch.setenv("JUPYTERHUB_USER", "ada")
        monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "gpu")
        jp_server_config["ColabGuard"].update(nvml_recording=NVML_A100X2, snapshot_dir=str(tmp_path / "snapshots"))
        jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
        jp_server_config["MappingKernelManager"] = {"cull_idle_timeout": 600, "cull_interval": 60}
        return jp_server_config

    @needs_promtool
    async def test_promtool_finds_nothing_in_colab_guards_metrics(self, jp_fetch, jp_serverapp):
        # Given a notebook's kernel on the server
        kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "train.ipynb")
        try:
            # When its /metrics is linted by promtool
            body = (await jp_fetch("metrics")).body.decode()
        finally:
            kernel.stop()
        result = promtool("check", "metrics", stdin=body)
        complaints = (result.stdout + result.stderr).strip().splitlines()
        # Then every colab-guard metric was there, with its type and samples
        for name, kind in COLAB_GUARD_METRICS.items():
            assert f"# TYPE {name} {kind}\n" in body, name
            assert name in MACHINE_DEPENDENT or re.search(rf"^{name}\{{", body, re.M), f"no sample of {name}"
        # And none of promtool's complaints (jupyter_server's own metrics have some) is about them
        assert not [line for line in complaints if "colab_guard" in line], complaints


# -- (b) a real Prometheus scraping real servers, and every query of the shipped dashboard

FLEET_HUB_CONFIG = """
c.JupyterHub.allow_named_servers = True
c.JupyterHub.last_activity_interval = 1  # the hub reads the proxy's activity every second
c.Spawner.args += ["--ColabGuard.nvml_recording={nvml}", "--ColabGuard.sample_interval=0.5"]
c.JupyterHub.services.append({{"name": "prometheus", "api_token": {token!r}}})
c.JupyterHub.load_roles += [
    # what deploy/kubernetes/values-colab-guard.yaml gives Prometheus
    {{"name": "prometheus", "scopes": ["access:servers"], "services": ["prometheus"]}},
    # the test reads the proxy's routes to find each server's port
    {{"name": "cg-test-proxy", "scopes": ["proxy"], "services": ["cg-test"]}},
]
"""
PROMETHEUS_TOKEN = "colab-guard-prometheus-" + "1" * 16
DEAD_PID = 2**22 + 12345  # above pid_max's default range: no such process


def sanitize(name: str) -> str:
    """A Kubernetes label or annotation name as Prometheus's discovery spells it in a meta label."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def pod(name: str, port_names: dict[str, int], labels: dict, annotations: dict, phase: str = "Running") -> list[dict]:
    """A pod as Prometheus's Kubernetes discovery (role: pod) describes it: one target per container port."""
    meta = {
        "__meta_kubernetes_namespace": "jhub",
        "__meta_kubernetes_pod_name": name,
        "__meta_kubernetes_pod_phase": phase,
        "__meta_kubernetes_pod_ip": "127.0.0.1",
        "__meta_kubernetes_pod_container_name": "notebook",
        **{f"__meta_kubernetes_pod_label_{sanitize(k)}": v for k, v in labels.items()},
        **{f"__meta_kubernetes_pod_annotation_{sanitize(k)}": v for k, v in annotations.items()},
    }
    return [
        {
            "targets": [f"127.0.0.1:{port}"],
            "labels": {
                **meta,
                "__meta_kubernetes_pod_container_port_name": port_name,
                "__meta_kubernetes_pod_container_port_number": str(port),
            },
        }  # fmt: skip
        for port_name, port in port_names.items()
    ]


def write_token(directory: str, name: str, token: str) -> str:
    """A token file, as Prometheus's credentials_file reads it."""
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(token)
    os.chmod(path, 0o600)
    return path


class Process:
    """A subprocess with its log, stopped with its process group."""

    def __init__(self, argv: list[str], log_path: str, **kw):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, **kw)

    def logs(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-3000:]

    def wait_for(self, ready, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{what}: exited with {self.proc.returncode}\n{self.logs()}"
            try:
                found = ready()
            except OSError:
                found = None
            except Exception as exc:  # httpx's connection errors while it starts
                if "Connect" not in type(exc).__name__ and "Timeout" not in type(exc).__name__:
                    raise
                found = None
            if found:
                return found
            time.sleep(0.3)
        raise AssertionError(f"{what} within {seconds} s\n{self.logs()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()


class Fleet:
    """alice's default server and bob's server "gpu" behind a real hub, a plain Jupyter server, and Prometheus."""

    def __init__(self, work):
        import httpx

        self.work = str(work)
        self.http = httpx.Client(timeout=30)
        self.processes: list[Process] = []
        self.plain: LiveServer | None = None
        self.hub = start_hub(os.path.join(self.work, "hub"), FLEET_HUB_CONFIG.format(nvml=NVML_A100X2, token=PROMETHEUS_TOKEN))

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.plain is not None:
            self.plain.stop()
        self.http.close()
        stop_hub(self.hub)

    def hub_server_ports(self) -> dict[tuple[str, str], int]:
        """(user, server name) -> the port its single-user server listens on, from the proxy's routes."""
        response = self.hub.api("GET", "/hub/api/proxy")
        assert response.status_code == 200, (response.status_code, response.text)
        ports = {}
        for route in response.json().values():
            data = route.get("data", {})
            if "user" in data:
                ports[(data["user"], data["server_name"])] = urllib.parse.urlsplit(route["target"]).port
        return ports

    def start_plain_server(self) -> tuple[int, str]:
        """A Jupyter server outside JupyterHub, with its own token: deploy/prometheus/plain-server.yml's case."""
        root = os.path.join(self.work, "plain")
        os.makedirs(root)
        token = "colab-guard-plain-" + "2" * 16
        server = LiveServer(
            root,
            "--ColabGuard.usage_log_interval=0",
            f"--ColabGuard.snapshot_dir={os.path.join(root, 'snapshots')}",
            token=token,
            env=isolated_env(root, HOME=root),
        )
        self.plain = server
        server.wait_ready()
        return server.port, token

    def start_prometheus(self, config: dict) -> str:
        path = os.path.join(self.work, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        checked = promtool("check", "config", path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        port = free_port()
        argv = [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={os.path.join(self.work, 'tsdb')}",
                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]  # fmt: skip
        process = Process(argv, os.path.join(self.work, "prometheus.log"), cwd=self.work)
        self.processes.append(process)
        self.prometheus = process
        self.prometheus_url = f"http://127.0.0.1:{port}"
        process.wait_for(
            lambda: self.http.get(self.prometheus_url + "/-/ready").status_code == 200, 60, "Prometheus is not ready"
        )
        return self.prometheus_url

    def prom(self, path: str, **params) -> dict:
        response = self.http.get(self.prometheus_url + path, params=params)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (path, params, body)
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.prom("/api/v1/query", query=expr)["result"]

    def server_last_activity(self, user: str, name: str) -> str:
        return self.hub.api("GET", f"/hub/api/users/{user}").json()["servers"][name]["last_activity"]

    def settled_last_activity(self, user: str, name: str) -> str:
        """The hub's last_activity of a server once it stopped moving (it reads the proxy every second)."""
        before = None
        for _ in range(20):
            now = self.server_last_activity(user, name)
            if now == before:
                return now
            before = now
            time.sleep(2)
        raise AssertionError(f"{user}'s server {name!r} kept being active: {now}")


@pytest.fixture
def fleet(tmp_path):
    fleet = Fleet(tmp_path)
    yield fleet
    fleet.close()


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expr) for every target of every panel, rows' panels included."""
    found = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                found.append((panel["title"], target["expr"]))
            walk(panel.get("panels", []))

    with open(DASHBOARD) as f:
        walk(json.load(f)["panels"])
    return found


def dashboard_variables() -> dict[str, dict]:
    with open(DASHBOARD) as f:
        return {v["name"]: v for v in json.load(f)["templating"]["list"]}


def substitute(expr: str, user: str = ".*", server: str = ".*") -> str:
    """What Grafana sends: the template variables replaced (".*" is the dashboard's "All")."""
    values = {"user": user, "server": server, "__rate_interval": "1m", "__interval": "1m", "__range": "1h"}
    out = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], expr)
    assert "$" not in out, out
    return out


@needs_prometheus
@pytest.mark.jupyterhub
def test_prometheus_scrapes_the_fleet_and_every_dashboard_query_has_data(fleet):
    hub = fleet.hub
    # Given, for each user, an OOM kill that took a previous container: a kernel's heartbeat stopped
    # near the limit in the user's own folder of the snapshot dir (on Kubernetes, the persistent
    # volume); each server sees only its user's folder (its JUPYTERHUB_USER)
    for user in ("alice", "bob"):
        notebook = f"/home/{user}/train.ipynb"
        folder = user_root(os.path.join(hub.homes, "snapshots"), env={"JUPYTERHUB_USER": user})
        root = os.path.join(folder, notebook_key(notebook))
        os.makedirs(root, mode=0o700)
        write_json_atomic(os.path.join(root, "heartbeat.json"),
                          {"pid": DEAD_PID, "time": time.time() - 600, "clean_exit": False, "notebook": notebook,
                           "working_set": 975 << 20, "limit": 1 << 30, "percent": 97.5, "peak_percent": 97.5})  # fmt: skip
    # And alice's default server and bob's named server "gpu", each with (recorded) GPUs and a kernel
    hub.start_server("alice")
    hub.start_server("bob", "gpu")
    for user, prefix in (("alice", "/user/alice"), ("bob", "/user/bob/gpu")):
        response = hub.api("POST", f"{prefix}/api/kernels", token=hub.token_for(user), json={"name": "python3"})
        assert response.status_code == 201, (response.status_code, response.text[:300])
    ports = fleet.hub_server_ports()
    # And a Jupyter server outside the hub, with its own token
    plain_port, plain_token = fleet.start_plain_server()

    # And Prometheus configured from the shipped examples: the plain server's job with its token...
    with open(PLAIN_CONFIG) as f:
        plain_job = yaml.safe_load(f)["scrape_configs"][0]
    plain_job["static_configs"][0]["targets"] = [f"127.0.0.1:{plain_port}"]
    plain_job["authorization"]["credentials_file"] = write_token(fleet.work, "plain-token", plain_token)
    # ...and the Kubernetes job, its pods described as Kubernetes discovery would (Debian's build has none)
    with open(K8S_CONFIG) as f:
        k8s_job = yaml.safe_load(f)["scrape_configs"][0]
    (discovery,) = k8s_job.pop("kubernetes_sd_configs")
    assert discovery["role"] == "pod" and discovery["selectors"] == [{"role": "pod", "label": "component=singleuser-server"}]
    k8s_job["authorization"]["credentials_file"] = write_token(fleet.work, "hub-token", PROMETHEUS_TOKEN)
    singleuser = {"component": "singleuser-server", "app": "jupyterhub"}
    pods = [
        *pod("jupyter-alice", {"notebook-port": ports[("alice", "")], "sidecar": hub.port},
             {**singleuser, "hub.jupyter.org/username": "alice", "hub.jupyter.org/servername": ""},
             {"hub.jupyter.org/username": "alice"}),
        *pod("jupyter-bob--gpu", {"notebook-port": ports[("bob", "gpu")]},
             {**singleuser, "hub.jupyter.org/username": "bob", "hub.jupyter.org/servername": "gpu"},
             {"hub.jupyter.org/username": "bob", "hub.jupyter.org/servername": "gpu"}),
        *pod("jupyter-carol", {"notebook-port": free_port()}, {**singleuser, "hub.jupyter.org/username": "carol"},
             {"hub.jupyter.org/username": "carol"}, phase="Pending"),
        *pod("hub-5d9c", {"http": hub.port}, {"component": "hub", "app": "jupyterhub"}, {}),
    ]  # fmt: skip
    pods_file = os.path.join(fleet.work, "pods.json")
    with open(pods_file, "w") as f:
        json.dump(pods, f)
    k8s_job["file_sd_configs"] = [{"files": [pods_file]}]
    # (the hub's view of alice's activity before Prometheus scrapes anything)
    activity_before = fleet.settled_last_activity("alice", "")
    fleet.start_prometheus(
        {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [plain_job, k8s_job],
        }
    )

    # When Prometheus has scraped every server a few times
    def all_up():
        targets = fleet.prom("/api/v1/targets")["activeTargets"]
        return targets if len(targets) == 3 and all(t["health"] == "up" for t in targets) else None

    targets = fleet.prometheus.wait_for(all_up, 60, "the three servers are not all scraped")
    # Then the Kubernetes job kept the single-user servers' notebook ports only, on their base URLs
    k8s = {t["labels"].get("hub_user"): t for t in targets if t["labels"]["job"] == "jupyterhub-singleuser"}
    assert sorted(k8s) == ["alice", "bob"]
    assert urllib.parse.urlsplit(k8s["alice"]["scrapeUrl"]).path == "/user/alice/metrics"
    assert urllib.parse.urlsplit(k8s["bob"]["scrapeUrl"]).path == "/user/bob/gpu/metrics"
    assert k8s["bob"]["labels"]["hub_server"] == "gpu" and "hub_server" not in k8s["alice"]["labels"]
    assert k8s["alice"]["labels"]["pod"] == "jupyter-alice" and k8s["alice"]["labels"]["namespace"] == "jhub"
    fleet.prometheus.wait_for(lambda: fleet.query("count(count_over_time(up[1m]) >= 3) == 3"), 30, "three scrapes of each server")

    # And every query of the shipped dashboard returns data for the whole fleet ("All")
    queries = dashboard_queries()
    assert len(queries) >= 20
    empty = [(title, expr) for title, expr in queries if not fleet.query(substitute(expr))]
    assert not empty, empty
    # And for each hub user, and for bob's server by its name
    for user, server in (("alice", ".*"), ("bob", ".*"), ("bob", "gpu")):
        empty = [(title, expr) for title, expr in queries if not fleet.query(substitute(expr, user, server))]
        assert not empty, (user, server, empty)

    # And the dashboard's variables list both users as distinct values, and bob's server name
    variables = dashboard_variables()
    for name, label, expected in (("user", "hub_user", ["alice", "bob"]), ("server", "hub_server", ["gpu"])):
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", variables[name]["query"])
        assert match and match.group(2) == label, variables[name]["query"]
        assert fleet.prom(f"/api/v1/label/{label}/values", **{"match[]": substitute(match.group(1))}) == expected

    # And the pod's annotations (hub_user) agree with what JupyterHub told each server (exported_hub_user)
    series = fleet.query("colab_guard_memory_headroom_bytes")
    assert len(series) == 3
    for metric in (s["metric"] for s in series):
        if metric["job"] == "jupyterhub-singleuser":
            assert metric["exported_hub_user"] == metric["hub_user"], metric
        else:
            assert "hub_user" not in metric and "exported_hub_user" not in metric, metric

    # And Prometheus's scrapes, straight to the pods, never counted as alice's activity
    assert fleet.settled_last_activity("alice", "") == activity_before
    # (while one request through the hub's proxy does: why the examples never scrape through it)
    assert hub.api("GET", "/user/alice/metrics", token=PROMETHEUS_TOKEN).status_code == 200
    fleet.prometheus.wait_for(lambda: fleet.server_last_activity("alice", "") != activity_before, 15, "proxy activity")


# -- (c) the Kubernetes guide's files


def values() -> dict:
    with open(K8S_VALUES) as f:
        return yaml.safe_load(f)


def kubernetes_bytes(size: str) -> int:
    """singleuser.memory.limit as KubeSpawner hands it to Kubernetes and to MEM_LIMIT (JupyterHub's ByteSpecification)."""
    number, unit = re.fullmatch(r"([\d.]+)([KMGT])", size).groups()
    return int(float(number) * 1024 ** ("KMGT".index(unit) + 1))


class TestKubernetesAdminConfig:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, jp_system_config_path, jp_home_dir, monkeypatch):
        # Given the pod of deploy/kubernetes: the admin's file where extraFiles mounts it, in the
        # system-wide config (jp_system_config_path stands for /etc/jupyter)...
        mount = values()["singleuser"]["extraFiles"]["colab-guard"]["mountPath"]
        assert os.path.dirname(mount) == "/etc/jupyter"
        shutil.copy(ADMIN_FILE, jp_system_config_path / os.path.basename(mount))
        # ...and the environment the values give the server: extraEnv, and the spawner's MEM_LIMIT
        monkeypatch.setenv("HOME", str(jp_home_dir))
        for name, value in values()["singleuser"]["extraEnv"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MEM_LIMIT", str(kubernetes_bytes(values()["singleuser"]["memory"]["limit"])))
        return jp_server_config

    async def test_the_guides_admin_file_takes_effect_in_a_real_server(self, jp_fetch, jp_serverapp, jp_home_dir):
        with open(ADMIN_FILE) as f:
            admin = json.load(f)
        cull = values()["cull"]
        # When the server reports its policy
        policy = json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)["policy"]
        # Then the countdown mirrors the hub's idle culler, fixed by the admin's file
        assert policy["idle_timeout"]["value"] == admin["ColabGuard"]["idle_timeout"] == cull["timeout"]
        assert policy["max_lifetime"]["value"] == admin["ColabGuard"]["max_lifetime"] == cull["maxAge"]
        assert policy["idle_check_interval"]["value"] == admin["ColabGuard"]["idle_check_interval"] == cull["every"]
        for name in ("idle_timeout", "idle_check_interval", "max_lifetime"):
            assert "fixed by the admin" in policy[name]["source"], policy[name]
            assert policy[name]["source"].endswith(f"{os.sep}jupyter_server_config.json)"), policy[name]
        # And jupyter_server culls idle kernels as the file says
        kernel_culling = admin["MappingKernelManager"]
        assert policy["cull_idle_timeout"]["value"] == kernel_culling["cull_idle_timeout"]
        assert policy["cull_interval"]["value"] == kernel_culling["cull_interval"]
        # And the thresholds and the interrupt are the admin's
        (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
        for name, value in admin["ColabGuard"].items():
            assert getattr(app, name) == value, name
        assert set(app.admin_fixed) >= {"critical_percent", "interrupt_cells", "idle_timeout"}
        # And the snapshots (and heartbeats) go to the home directory, the user's persistent volume
        assert app.snapshot_dir == os.path.join(str(jp_home_dir), ".colab-guard", "snapshots")
        # And the memory limit is singleuser.memory.limit, as MEM_LIMIT gives it, unless this machine has less
        memory = json.loads((await jp_fetch("colab-guard", "v1", "resources")).body)["host"]["memory"]
        mem_limit = int(os.environ["MEM_LIMIT"])
        smaller = [v for v in (memory["total"], (memory.get("cgroup") or {}).get("limit")) if v and v < mem_limit]
        if smaller:
            assert memory["limit"] == min(smaller) and memory["limit_source"] != "env"
        else:
            assert (memory["limit"], memory["limit_source"]) == (mem_limit, "env")


def test_the_guide_delivers_the_file_the_values_mount():
    # the helm command of the guide and of the values sets the same extraFiles key to this file
    (key,) = values()["singleuser"]["extraFiles"]
    command = f"--set-file singleuser.extraFiles.{key}.stringData={os.path.basename(ADMIN_FILE)}"
    for path in (K8S_GUIDE, K8S_VALUES):
        with open(path) as f:
            assert command in f.read(), path
    # and Prometheus's role has the scope the scrape examples rely on
    assert values()["hub"]["loadRoles"]["prometheus"]["scopes"] == ["access:servers"]


@needs_promtool
def test_the_prometheus_examples_pass_promtool(tmp_path):
    # the plain example, with its token file where it says (promtool checks that the file exists)
    with open(PLAIN_CONFIG) as f:
        plain = yaml.safe_load(f)
    assert plain["scrape_configs"][0]["authorization"]["type"] == "token"
    result = promtool("check", "config", "--syntax-only", PLAIN_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    plain["scrape_configs"][0]["authorization"]["credentials_file"] = write_token(str(tmp_path), "token", "t")
    (tmp_path / "plain.yml").write_text(yaml.safe_dump(plain))
    result = promtool("check", "config", str(tmp_path / "plain.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    # the Kubernetes example: whole where promtool knows Kubernetes discovery (Debian's does not),
    # else everything but the discovery block (its relabelling runs in the fleet test above)
    result = promtool("check", "config", "--syntax-only", K8S_CONFIG)
    if "field kubernetes_sd_configs not found" not in result.stdout + result.stderr:
        assert result.returncode == 0, result.stdout + result.stderr
    with open(K8S_CONFIG) as f:
        k8s = yaml.safe_load(f)
    job = k8s["scrape_configs"][0]
    assert job["authorization"]["type"] == "token"
    del job["kubernetes_sd_configs"]
    job["file_sd_configs"] = [{"files": [str(tmp_path / "pods.json")]}]
    (tmp_path / "k8s.yml").write_text(yaml.safe_dump(k8s))
    result = promtool("check", "config", "--syntax-only", str(tmp_path / "k8s.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
