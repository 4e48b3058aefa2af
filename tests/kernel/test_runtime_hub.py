"""What the kernel says of the idle disconnect under a JupyterHub, from its server's state."""

from colab_guard.contract.settings import WatcherSettings
from colab_guard.kernel import runtime

NOW = 1_800_000_000.0


def state(hub: dict | None, idle_disconnect_at: str | None) -> dict:
    return {"server": {"idle_disconnect_at": idle_disconnect_at, "hub": hub}, "kernels": {}}


def test_the_countdown_is_the_hubs_with_its_sentence():
    hub = {"answered": True, "message": "Nothing keeps this server running: the hub will stop it in 10 min."}
    idle = runtime.idle(WatcherSettings(), "jupyterhub", state(hub, "2027-01-15T08:10:00Z"), "k", None, NOW)
    assert idle["seconds_left"] == 600.0
    assert idle["source"] == "the hub's idle culler, on the hub's clock" and idle["text"] == hub["message"]


def test_an_open_notebook_keeping_the_server_alive_is_said_without_a_countdown():
    hub = {"answered": True, "message": "A notebook open in a browser tab keeps this server running."}
    idle = runtime.idle(WatcherSettings(), "jupyterhub", state(hub, None), "k", None, NOW)
    assert idle["seconds_left"] is None and idle["text"] == hub["message"]


def test_a_hub_that_did_not_answer_leaves_the_servers_own_countdown():
    hub = {"answered": False, "error": "HTTP 403", "message": "ignored"}
    idle = runtime.idle(WatcherSettings(), "jupyterhub", state(hub, "2027-01-15T08:10:00Z"), "k", None, NOW)
    assert idle["source"] == "the colab-guard server's countdown" and idle["text"] is None
