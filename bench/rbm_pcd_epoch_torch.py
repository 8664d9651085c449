#!/usr/bin/python3
"""PyTorch peer of `genphys rbm train --data fashion-mnist --binarize static
--hidden 500 --method pcd --k 1 --batch 128 --epochs 1`: one epoch of PCD-1 on
binarised Fashion-MNIST (60k, threshold 0.5), 784x500, batch 128, plain SGD
lr 0.01, persistent chains = batch size, same update as genphys's Trainer
(mean-field positive phase, h ~ p(h|v), v ~ p(v|h) for the chains, mean-field
hiddens for the negative statistics, plus the reconstruction monitor).

Usage: /usr/bin/python3 bench/rbm_pcd_epoch_torch.py [--threads N] [--epochs E]
Prints one JSON line: seconds per epoch and settings.
"""
import argparse, gzip, json, os, struct, time

import numpy as np
import torch


def load_images(path):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, f"{path}: bad IDX magic {magic}"
        return np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("GENPHYS_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = load_images(os.path.join(args.dir, "train-images-idx3-ubyte.gz"))
    data = torch.from_numpy((x / 255.0 > 0.5).astype(np.float32))
    n, nv = data.shape
    nh, bs, lr = args.hidden, args.batch, args.lr
    W = 0.01 * torch.randn(nv, nh)
    p = data.mean(0).clamp(1e-3, 1 - 1e-3)
    a = torch.log(p / (1 - p))
    b = torch.zeros(nh)
    chains = data[:bs].clone()
    times = []
    with torch.no_grad():
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            perm = torch.randperm(n)
            for i in range(0, n, bs):
                v = data[perm[i:i + bs]]
                hp = torch.sigmoid(v @ W + b)
                rec = torch.sigmoid(hp @ W.t() + a)
                _ = ((v - rec) ** 2).sum() / v.shape[0]
                hs = torch.bernoulli(torch.sigmoid(chains @ W + b))
                chains = torch.bernoulli(torch.sigmoid(hs @ W.t() + a))
                hn = torch.sigmoid(chains @ W + b)
                W += lr * (v.t() @ hp / v.shape[0] - chains.t() @ hn / bs)
                a += lr * (v.mean(0) - chains.mean(0))
                b += lr * (hp.mean(0) - hn.mean(0))
            times.append(time.perf_counter() - t0)
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": args.threads, "hidden": nh, "batch": bs,
                      "epochs": args.epochs, "seconds_per_epoch": min(times), "all_seconds": times}))


if __name__ == "__main__":
    main()
