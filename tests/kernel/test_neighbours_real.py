"""Several notebooks in one container: only the notebook that grows memory is stopped and blamed."""

import asyncio
import re

import pytest
from kernel_helpers import start_notebook_kernel
from runaway import GROW, grow_call

# A steady training loop: it holds 300 MB and allocates nothing while it runs
STEADY_SETUP = "import numpy as np, time\nweights = np.ones(300_000_000 // 8)\nhistory = {'loss': [1.0]}"
STEADY_LOOP = (
    "t0 = time.time(); steps = 0\n"
    "while time.time() - t0 < {seconds}:\n"
    "    weights[:1000] += 1.0; steps += 1\n"
    "print('finished', steps > 0)"
)


def texts(out: dict) -> list[str]:
    return [d.get("text/plain", "") for d in out["data"]]


@pytest.mark.cgroup
async def test_only_the_growing_notebook_is_stopped_and_blamed(jp_fetch, jp_serverapp, memory_cgroup):
    # Given two notebooks in one 1 GiB container: A trains steadily holding 300 MB, B will grow
    limit = 1 << 30
    group = memory_cgroup(limit)
    steady = await start_notebook_kernel(jp_fetch, jp_serverapp, "steady.ipynb")
    grower = await start_notebook_kernel(jp_fetch, jp_serverapp, "grower.ipynb")
    for kernel in (steady, grower):
        group.write("cgroup.procs", str(jp_serverapp.kernel_manager.get_kernel(kernel.id).provisioner.process.pid))
    assert (await steady.run(STEADY_SETUP))["error"] is None
    assert (await grower.run(GROW))["error"] is None
    await asyncio.sleep(1.5)
    # When A's loop runs and B's cell grows memory at 300 MB/s toward the limit
    training = asyncio.ensure_future(steady.run(STEADY_LOOP.format(seconds=10), timeout=60))
    await asyncio.sleep(1.0)
    grown = await grower.run(grow_call(300e6, limit, 0.0), timeout=60)
    trained = await training
    # Then B's cell is stopped, blamed by the number its prompt shows
    stop = next((t for t in texts(grown) if "colab-guard stopped this cell" in t), None)
    assert stop is not None, grown
    assert re.search(rf"The cell that grew memory most: \[{grown['number']}\] `grow\(", stop), stop
    # And A's loop ran to its end, never stopped, never blamed, with at most one "saved" line
    assert trained["error"] is None and "finished True" in trained["text"], trained
    said = texts(trained)
    assert not [t for t in said if "stopped this cell" in t], said
    assert not [t for t in said if "The cell that grew memory most" in t], said
    assert len([t for t in said if "colab-guard saved" in t]) <= 1, said
    # what A was told about the memory names the other notebook as the grower
    high = [t for t in said if "Memory is high" in t]
    assert all("grower.ipynb" in t for t in high), high
    # And both kernels keep their variables
    assert (await steady.run("print(weights.nbytes, history)"))["text"].startswith("300000000 {'loss'")
    assert (await grower.run("print('alive')"))["text"] == "alive\n"
    steady.stop()
    grower.stop()
