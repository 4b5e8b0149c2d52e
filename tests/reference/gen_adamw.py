#!/usr/bin/python3
"""Write the AdamW and gradient-clipping fixture of tests/test_adamw.c.

Regenerate (needs torch, as Debian's python3-torch provides; the C test
reads only the JSON):

    /usr/bin/python3 tests/reference/gen_adamw.py tests/reference/data

Each case runs torch.optim.AdamW for a few steps on a handful of float32
scalars with fixed gradients and a learning rate that changes every step.
Parameters listed in "no_decay" sit in a second parameter group with
weight_decay 0, which is what the C optimiser's decay mask reproduces. The
parameters after every step are written as lists of floats (repr of the
float32 value). Tiny gradients (1e-8) make the placement of eps visible.
The clipping case records torch.nn.utils.clip_grad_norm_ on one vector.
"""

import json
import os
import sys

import torch

CASES = [
    {
        "name": "defaults-like",
        "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1,
        "params": [0.5, -1.25, 2.0, 0.0, 1e-3],
        "no_decay": [],
        "lrs": [1e-2, 5e-3, 2e-2],
        "grads": [
            [0.1, -0.2, 0.3, 1.0, 1e-8],
            [-0.05, 0.4, 0.0, -1.0, 2e-8],
            [0.2, 0.1, -0.3, 0.5, -1e-8],
        ],
    },
    {
        "name": "large-eps-masked",
        "beta1": 0.8, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.5,
        "params": [1.0, -2.0, 0.25, 3.0, -0.75, 1.5],
        "no_decay": [1, 4],
        "lrs": [0.1, 0.05, 0.2],
        "grads": [
            [1e-3, -0.5, 2.0, 0.0, 0.3, -4.0],
            [2e-3, 0.25, -1.0, 0.0, -0.3, 1.0],
            [-1e-3, 0.125, 0.5, 0.0, 0.6, 2.0],
        ],
    },
]

CLIP = {"grads": [3.0, -4.0, 12.0, 0.5, -0.25], "max_norm": 2.5}


def f32(x):
    return float(torch.tensor(x, dtype=torch.float32))


def run_case(case):
    n = len(case["params"])
    p = [torch.tensor([case["params"][i]], dtype=torch.float32, requires_grad=True)
         for i in range(n)]
    decay = [p[i] for i in range(n) if i not in case["no_decay"]]
    no_decay = [p[i] for i in range(n) if i in case["no_decay"]]
    groups = [{"params": decay, "weight_decay": case["weight_decay"]}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=case["lrs"][0], betas=(case["beta1"], case["beta2"]),
                            eps=case["eps"], foreach=False)
    trajectory = []
    for lr, g in zip(case["lrs"], case["grads"]):
        for group in opt.param_groups:
            group["lr"] = lr
        for i in range(n):
            p[i].grad = torch.tensor([g[i]], dtype=torch.float32)
        opt.step()
        trajectory.append([float(p[i].detach()[0]) for i in range(n)])
    out = dict(case)
    out["params"] = [f32(x) for x in case["params"]]
    out["grads"] = [[f32(x) for x in row] for row in case["grads"]]
    out["expected"] = trajectory
    return out


def run_clip():
    g = torch.tensor(CLIP["grads"], dtype=torch.float32)
    w = torch.zeros_like(g, requires_grad=True)
    w.grad = g.clone()
    norm = torch.nn.utils.clip_grad_norm_([w], CLIP["max_norm"])
    return {"grads": [f32(x) for x in CLIP["grads"]], "max_norm": CLIP["max_norm"],
            "norm": float(norm), "clipped": [float(x) for x in w.grad]}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "data")
    doc = {
        "generator": "tests/reference/gen_adamw.py",
        "torch": torch.__version__,
        "cases": [run_case(c) for c in CASES],
        "clip": run_clip(),
    }
    path = os.path.join(outdir, "adamw_torch.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
