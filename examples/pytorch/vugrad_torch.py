#!/usr/bin/env python3
"""vugrad <-> PyTorch: the same networks on both sides, weights carried over as safetensors.

vugrad's MLP and LeNet use PyTorch's key names and layouts (Linear weight [out, in], Conv2d weight
[out, in, kh, kw], NCHW), so a state dict moves across unchanged. This file holds the equivalent torch.nn
modules, a safetensors reader/writer in plain struct/json (no `safetensors` package needed: the format is an
8-byte little-endian header length, a JSON header, then the raw tensor bytes), and two commands:

  python3 vugrad_torch.py predict MODEL.safetensors INPUTS.safetensors OUT.safetensors [MODEL INPUTS OUT ...]
      Loads a model saved by vugrad (`vugrad train --out`, or saveModel) into the torch module and writes
      the logits of the tensor 'x' in INPUTS as the tensor 'logits' in OUT (several triples: one start of
      Python and torch for all).

  python3 vugrad_torch.py make {mlp,lenet,all} OUT_DIR [--seed N]
      Makes a torch model and writes OUT_DIR/model.safetensors (its state dict, with the run configuration
      vugrad reads), OUT_DIR/model.onnx (torch.onnx.export, opset 13, dynamic batch) and
      OUT_DIR/check.safetensors (inputs 'x' and torch's 'logits' for them), for vugrad to load and compare.
      `all` makes both, in OUT_DIR/mlp and OUT_DIR/lenet.

Needs only PyTorch (Debian: apt-get install python3-torch), which brings numpy.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


class MLP(nn.Module):
    """vugrad's MLP: Linear layers in `layers` (keys layers.0.weight, ...), the activation between them."""

    def __init__(self, sizes, activation="relu"):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = activation

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = ACTIVATIONS[self.activation](x)
        return x


class LeNet(nn.Module):
    """vugrad's LeNet, the PyTorch CIFAR tutorial's Net (keys conv1.*, conv2.*, fc1.*, fc2.*, fc3.*)."""

    def __init__(self, in_channels=3, num_classes=10, image_size=32):
        super().__init__()
        side = ((image_size - 4) // 2 - 4) // 2
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


DTYPES = {"F32": np.float32, "F64": np.float64}
CODES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}


def load_safetensors(path):
    """(tensors by name as torch tensors, metadata dict) from a safetensors file of F32/F64 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has dtype {info['dtype']}; only F32 and F64 are read here")
        begin, end = info["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]).astype(DTYPES[info["dtype"]]))
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes torch tensors (float32/float64) and string metadata as a safetensors file."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        array = np.ascontiguousarray(t.detach().cpu().numpy())
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": CODES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # data 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def model_for(tensors, metadata):
    """The torch module whose state dict `tensors` is (architecture from the key names and shapes)."""
    config = json.loads(metadata.get("config", "{}"))
    if "conv1.weight" in tensors:
        in_channels = tensors["conv1.weight"].shape[1]
        side = int(round((tensors["fc1.weight"].shape[1] / 16) ** 0.5))
        sizes = {"mnist": 28, "fashion-mnist": 28, "cifar10": 32}
        image_size = sizes.get(config.get("dataset"), 4 * side + 12)
        model = LeNet(in_channels, tensors["fc3.weight"].shape[0], image_size)
    else:
        n = sum(1 for k in tensors if k.startswith("layers.") and k.endswith(".weight"))
        sizes = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in range(n)]
        model = MLP(sizes, config.get("activation", "relu"))
    dtype = next(iter(tensors.values())).dtype
    model = model.to(dtype)
    model.load_state_dict(tensors)  # strict: missing or unexpected keys are an error
    return model.eval()


def predict(args):
    if len(args.files) % 3 != 0:
        raise SystemExit(f"predict: expected MODEL INPUTS OUT triples, got {len(args.files)} paths")
    for model_file, inputs_file, out_file in zip(*[iter(args.files)] * 3):
        tensors, metadata = load_safetensors(model_file)
        model = model_for(tensors, metadata)
        inputs, _ = load_safetensors(inputs_file)
        x = inputs["x"].to(next(model.parameters()).dtype)
        with torch.no_grad():
            logits = model(x)
        save_safetensors(out_file, {"logits": logits})


def make(args):
    if args.kind == "all":
        for kind in ("mlp", "lenet"):
            make(argparse.Namespace(kind=kind, out_dir=os.path.join(args.out_dir, kind), seed=args.seed))
        return
    torch.manual_seed(args.seed)
    if args.kind == "mlp":
        model, config, shape = MLP([20, 16, 8, 5], "tanh"), {"model": "mlp", "activation": "tanh", "hidden": [16, 8]}, [20]
    else:
        model, config, shape = LeNet(3, 10, 32), {"model": "lenet", "dataset": "cifar10"}, [3, 32, 32]
    model.eval()
    os.makedirs(args.out_dir, exist_ok=True)
    save_safetensors(os.path.join(args.out_dir, "model.safetensors"), model.state_dict(), {"config": json.dumps(config)})
    x = torch.rand(4, *shape) * 2 - 1
    with torch.no_grad():
        logits = model(x)
    save_safetensors(os.path.join(args.out_dir, "check.safetensors"), {"x": x, "logits": logits})
    # Debian's torch 1.13 exports ONNX by itself (the `onnx` package is only needed to check the file).
    torch.onnx.export(
        model,
        torch.zeros(1, *shape),
        os.path.join(args.out_dir, "model.onnx"),
        opset_version=13,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="logits of a vugrad model run by PyTorch")
    p.add_argument("files", nargs="+", metavar="MODEL INPUTS OUT")
    p.set_defaults(run=predict)
    m = sub.add_parser("make", help="a PyTorch model as safetensors and ONNX, with check outputs")
    m.add_argument("kind", choices=["mlp", "lenet", "all"])
    m.add_argument("out_dir")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(run=make)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
