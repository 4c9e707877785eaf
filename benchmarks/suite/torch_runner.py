"""The suite's PyTorch runner (a child of benchmarks/bench.ts): the same workloads, data and models as
benchmarks/suite/vugrad.ts. Argument: the RunnerConfig JSON. Prints one line `RESULT {...}`."""
import json, math, resource, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

config = json.loads(sys.argv[1])
if config["threads"] > 0:
    torch.set_num_threads(config["threads"])
seconds = config["seconds"]


def synthetic(n, offset=0):
    i = torch.arange(n, dtype=torch.float64) + offset
    return (0.5 * torch.sin(0.37 * i)).float()


def labels(n):
    return (torch.arange(n) * 7) % 10


def rate(step):
    t0 = time.perf_counter(); n = 0
    while n < 2 or time.perf_counter() - t0 < min(0.3, seconds / 3):
        step(); n += 1
        if time.perf_counter() - t0 > seconds:
            break
    t0 = time.perf_counter(); n = 0; t = t0
    while n == 0 or t - t0 < seconds:
        step(); n += 1; t = time.perf_counter()
    return n / (t - t0)


def mlp(hidden=300, act=nn.ReLU):
    return nn.Sequential(nn.Linear(784, hidden), act(), nn.Linear(hidden, 10))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5); self.pool = nn.MaxPool2d(2, 2); self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120); self.fc2 = nn.Linear(120, 84); self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x))); x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def train(model, shape):
    x = synthetic(math.prod(shape)).reshape(shape); y = labels(shape[0])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
    return {"value": rate(step) * shape[0]}


def gemm1024():
    n = 1024
    a = synthetic(n * n).reshape(n, n); b = synthetic(n * n, 7).reshape(n, n); c = torch.empty(n, n)
    torch.mm(a, b, out=c); ts = []; t0 = time.perf_counter()
    while len(ts) < 3 or time.perf_counter() - t0 < seconds:  # median call, as the C baseline
        s = time.perf_counter(); torch.mm(a, b, out=c); ts.append(time.perf_counter() - s)
    return {"value": 2 * n ** 3 / sorted(ts)[len(ts) // 2] / 1e9}


def conv():
    x = synthetic(64 * 3 * 32 * 32).reshape(64, 3, 32, 32).requires_grad_()
    w = synthetic(6 * 75, 3).reshape(6, 3, 5, 5).requires_grad_()
    b = synthetic(6, 5).requires_grad_()
    g = torch.ones(64, 6, 28, 28)

    def step():
        x.grad = None; w.grad = None; b.grad = None
        F.conv2d(x, w, b).backward(g)
    return {"value": 1000 / rate(step)}


def batches(n, batch):
    xs = synthetic(n * 784).reshape(n, 784); ys = labels(n)
    return [(xs[i:i + batch], ys[i:i + batch]) for i in range(0, n, batch)]


def mnist_epoch():
    model = mlp(3136, nn.Sigmoid); opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = batches(60000, 128)

    def step(xy):
        loss = F.cross_entropy(model(xy[0]), xy[1]); opt.zero_grad(); loss.backward(); opt.step()
    step(data[0])
    t0 = time.perf_counter(); done = 0
    while done < len(data) and time.perf_counter() - t0 < config["epochCap"]:
        step(data[done]); done += 1
    el = time.perf_counter() - t0
    return {"value": el * len(data) / done, "extra": {"extrapolated": done < len(data), "batchesTimed": done}}


def rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2 ** 20


def memory():
    model = mlp(); opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = batches(10000, 128); per_epoch = []; t0 = time.perf_counter()
    for e in range(10):
        if time.perf_counter() - t0 > config["memoryCap"]:
            break
        for x, y in data:
            loss = F.cross_entropy(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
        per_epoch.append(round(rss_mb(), 1))
    return {"value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "extra": {"rssPerEpoch": per_epoch}}


impl = {
    "gemm1024": gemm1024, "conv": conv,
    "mlp128": lambda: train(mlp(), [128, 784]), "mlp16": lambda: train(mlp(), [16, 784]),
    "lenet4": lambda: train(LeNet(), [4, 3, 32, 32]), "lenet64": lambda: train(LeNet(), [64, 3, 32, 32]),
    "mnistEpoch": mnist_epoch, "memory": memory,
}
cells = {}
for w in config["workloads"]:
    try:
        cells[w] = impl[w]()
    except Exception as e:  # a cell that says why
        cells[w] = {"error": str(e).split("\n")[0][:160]}


def blas_threads():
    """Threads of the OpenBLAS this PyTorch calls for its gemms (torch.set_num_threads does not set them), or None."""
    try:
        import ctypes
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line and ".so" in line})
        for lib in libs:
            fn = getattr(ctypes.CDLL(lib), "openblas_get_num_threads", None)
            if fn is not None:
                return int(fn())
    except Exception:
        pass
    return None


name = "pytorch-%dt" % config["threads"] if config["threads"] > 0 else "pytorch-default"
print("RESULT " + json.dumps({"framework": name, "version": torch.__version__, "threads": torch.get_num_threads(),
                              "blasThreads": blas_threads(), "cells": cells}))
