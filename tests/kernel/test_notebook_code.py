"""Code defined in the notebook survives a snapshot into a fresh kernel, without re-running any cell."""

import pytest
from kernel_helpers import start_notebook_kernel

DEFINE = """
import dataclasses
import torch

@dataclasses.dataclass
class Point:
    x: float
    y: float
    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)
    def forward(self, x):
        return torch.relu(self.layer(x)) * scale

scale = 2.0
torch.manual_seed(0)
model = Net()
p = Point(3.0, 4.0)
double = lambda v: v * 2
def shifted(v, by=1):
    return double(v) + by + offset
offset = 10
probe = torch.arange(8, dtype=torch.float32).reshape(2, 4)
"""
CHECK = "print(model(probe).tolist(), p.norm(), p == Point(3.0, 4.0), shifted(5), isinstance(model, Net), type(p).__name__)"


async def test_notebook_classes_functions_lambdas_and_instances_come_back(jp_fetch, jp_serverapp):
    pytest.importorskip("torch")
    # Given a notebook that defined a model class, a dataclass, a lambda and a function using globals
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "code.ipynb")
    try:
        assert (await kernel.run(DEFINE))["error"] is None
        before = (await kernel.run(CHECK))["text"]
        out = await kernel.run("%guard snapshot")
        assert out["error"] is None and "skipped" not in out["text"], out

        # When the kernel restarts (every definition gone) and the snapshot is restored, no cell re-run
        await jp_fetch("api", "kernels", kernel.id, "restart", method="POST", body="")
        await kernel.connect()
        assert "NameError" in (await kernel.run("Net"))["error"]
        out = await kernel.run("%guard restore")
        assert out["error"] is None and "not restored" not in out["text"], out

        # Then the model computes the same, the instances are instances of the restored classes
        assert (await kernel.run(CHECK))["text"] == before
        # And restored functions read the kernel's globals as cells do: a new value is seen
        out = await kernel.run("offset = 100; scale = 1.0; print(shifted(5), model(probe).sum().item() > 0)")
        assert out["text"].split()[0] == "111"
        # And a new instance of a restored class works, the class can still be subclassed
        out = await kernel.run("class Net2(Net): pass\nprint(Net2()(probe).shape, Point(1, 1).norm())")
        assert out["error"] is None and "torch.Size([2, 2])" in out["text"], out
    finally:
        kernel.stop()
