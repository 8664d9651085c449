#!/usr/bin/python3
"""PyTorch peer of `genphys rbm train --data fashion-mnist --binarize static
--hidden 500 --method pcd --k 1 --batch 128 --lr 0.01`: epochs of PCD-1 on
binarised Fashion-MNIST (60k, threshold 0.5), 784x500, batch 128, plain SGD
lr 0.01, persistent chains = batch size, same update as genphys's Trainer
(mean-field positive phase, h ~ p(h|v), v ~ p(v|h) for the chains, mean-field
hiddens for the negative statistics, plus the reconstruction monitor).

After each epoch it does what `rbm train` does by default besides training: the
pseudo-log-likelihood monitor on 1000 training rows (one random site each), the
free-energy gap (1000 test rows against 1000 training rows) and a checkpoint
(weights, biases, persistent chains) written to a temporary directory.  `seconds`
is the epoch's training steps alone, `seconds_e2e` the whole epoch with those.

Usage: /usr/bin/python3 bench/rbm_pcd_epoch_torch.py [--threads N] [--epochs E] [--limit N] [--json]
Without --json: one summary JSON line (seconds per epoch and settings), as before;
with --json: one JSON line per epoch (what `genphys bench --peer` reads).
"""
import argparse, gzip, json, os, shutil, struct, tempfile, time

import numpy as np
import torch
import torch.nn.functional as F


def load_images(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, f"{path}: bad IDX magic {magic}"
        return np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols)


def find(d, base):
    for f in (base + ".gz", base):
        if os.path.exists(os.path.join(d, f)):
            return os.path.join(d, f)
    raise SystemExit(f"{d}: {base}(.gz) not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", "--data", dest="dir", default=os.environ.get("GENPHYS_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--limit", type=int, default=None, help="use only the first n training images")
    ap.add_argument("--json", action="store_true", help="one JSON line per epoch")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = load_images(find(args.dir, "train-images-idx3-ubyte"))
    if args.limit is not None:
        x = x[:args.limit]
    data = torch.from_numpy((x / 255.0 > 0.5).astype(np.float32))
    test = torch.from_numpy((load_images(find(args.dir, "t10k-images-idx3-ubyte")) / 255.0 > 0.5).astype(np.float32))
    n, nv = data.shape
    nh, bs, lr = args.hidden, args.batch, args.lr
    W = 0.01 * torch.randn(nv, nh)
    p = data.mean(0).clamp(1e-3, 1 - 1e-3)
    a = torch.log(p / (1 - p))
    b = torch.zeros(nh)
    chains = data[:bs].clone()

    def free_energy(v):
        return -(v @ a) - F.softplus(v @ W + b).sum(1)

    ckdir = tempfile.mkdtemp(prefix="rbm-peer-")
    times, rows = [], []
    with torch.no_grad():
        for epoch in range(1, args.epochs + 1):
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
            t1 = time.perf_counter()
            # The per-epoch monitors and checkpoint of `rbm train` (src/ebm/run.ts afterEpoch).
            sub = data[:1000]
            flipped = sub.clone()
            site = torch.randint(0, nv, (len(sub),))
            idx = torch.arange(len(sub))
            flipped[idx, site] = 1 - flipped[idx, site]
            pll = float((-nv * F.softplus(free_energy(sub) - free_energy(flipped))).mean())
            gap = float(free_energy(test[:1000]).mean() - free_energy(sub).mean())
            torch.save({"W": W, "a": a, "b": b, "chains": chains, "epoch": epoch}, os.path.join(ckdir, "checkpoint.pt"))
            t2 = time.perf_counter()
            times.append(t1 - t0)
            rows.append(dict(impl="torch", model="rbm-pcd1", epoch=epoch, seconds=t1 - t0, seconds_e2e=t2 - t0, pseudoLL=pll,
                             freeEnergyGap=gap, threads=args.threads, hidden=nh, batch=bs, torch=torch.__version__))
            if args.json:
                print(json.dumps(rows[-1]), flush=True)
    shutil.rmtree(ckdir, ignore_errors=True)
    if not args.json:
        print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": args.threads, "hidden": nh, "batch": bs,
                          "epochs": args.epochs, "seconds_per_epoch": min(times), "all_seconds": times,
                          "all_seconds_e2e": [r["seconds_e2e"] for r in rows]}))


if __name__ == "__main__":
    main()
