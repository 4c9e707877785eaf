#!/usr/bin/env python3
"""PyTorch's side of benchmarks/resnet.ts: training samples/s of the CIFAR ResNet (the model of
scripts/fixtures/make-cnn-reference.py) at one batch size, SGD Nesterov with weight decay, random data.

    /usr/bin/python3 benchmarks/resnet_torch.py DEPTH BATCH STEPS THREADS  -> one JSON line
"""
import importlib.util
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('ref', os.path.join(here, '..', 'scripts', 'fixtures', 'make-cnn-reference.py'))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
torch.set_default_dtype(torch.float32)


def main():
    depth, batch, steps, threads = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ref.ResNet(depth, 'A').float()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({'framework': f'pytorch {torch.__version__} ({threads} thr)', 'median_s': times[len(times) // 2], 'samples_per_s': batch / times[len(times) // 2]}))


if __name__ == '__main__':
    main()
