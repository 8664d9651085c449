#!/usr/bin/python3
"""PyTorch reference for genphys's `torch-mlp` VAE preset (pytorch/examples vae/main.py).

Same model and recipe as the example: 784-400-20 MLP with ReLU, Bernoulli decoder
on grey-level pixels (BCE summed over pixels + KL, per example), Adam lr 1e-3,
batch 128, shuffled every epoch, 10 epochs; the test loss samples z (as the
example does).  Data: Fashion-MNIST IDX files (default the Debian package's
directory), pixels / 255.  Prints one line per epoch with the train and test loss
in nats per example and the seconds the epoch's training steps took (`seconds`) and
the whole epoch took (`seconds_e2e`: the training steps, the test pass and a checkpoint
of the model and optimiser, plus the best model when the test loss improved, written to a
temporary directory, as `genphys vae train` does every epoch).

    /usr/bin/python3 bench/vae_mlp_torch.py [--data DIR] [--epochs 10] [--threads 2] [--limit N] [--json]
"""
import argparse
import gzip
import json
import os
import shutil
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        buf = f.read()
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, base):
    for f in (base + ".gz", base):
        if os.path.exists(os.path.join(d, f)):
            return os.path.join(d, f)
    raise SystemExit(f"{d}: {base}(.gz) not found")


def load(d, prefix, limit=None):
    x = read_idx(find(d, f"{prefix}-images-idx3-ubyte")).reshape(-1, 784)
    if limit is not None:
        x = x[:limit]
    return torch.from_numpy(x.astype(np.float32) / 255.0)


class Checkpointer:
    """A checkpoint (model + optimiser) every epoch and the best model by test loss, as `genphys vae train` keeps."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vae-peer-")
        self.best = float("inf")

    def epoch(self, model, opt, epoch, test_loss):
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch}, os.path.join(self.dir, "checkpoint.pt"))
        if test_loss < self.best:
            self.best = test_loss
            torch.save(model.state_dict(), os.path.join(self.dir, "best.pt"))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.fc4(F.relu(self.fc3(z))), mu, logvar


def loss_terms(logits, x, mu, logvar):
    # BCE on logits (the example applies sigmoid then binary_cross_entropy; same value, stabler).
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return rec, kl


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first n training images (the test split stays whole)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, xte = load(a.data, "train", a.limit), load(a.data, "t10k")
    ck = Checkpointer()
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, a.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr))
        tr_rec = tr_kl = 0.0
        t0 = time.perf_counter()
        for i in range(0, len(xtr), a.batch):
            x = xtr[perm[i:i + a.batch]]
            opt.zero_grad(set_to_none=True)
            logits, mu, logvar = model(x)
            rec, kl = loss_terms(logits, x, mu, logvar)
            (rec + kl).backward()  # summed over the batch, as in the example
            opt.step()
            tr_rec += rec.item()
            tr_kl += kl.item()
        secs = time.perf_counter() - t0
        model.eval()
        te_rec = te_kl = 0.0
        with torch.no_grad():
            for i in range(0, len(xte), 500):
                x = xte[i:i + 500]
                logits, mu, logvar = model(x)
                rec, kl = loss_terms(logits, x, mu, logvar)
                te_rec += rec.item()
                te_kl += kl.item()
        n, m = len(xtr), len(xte)
        ck.epoch(model, opt, epoch, (te_rec + te_kl) / m)
        secs_e2e = time.perf_counter() - t0
        row = dict(impl="torch", model="torch-mlp", epoch=epoch, train_loss=(tr_rec + tr_kl) / n, train_rec=tr_rec / n, train_kl=tr_kl / n,
                   test_loss=(te_rec + te_kl) / m, test_rec=te_rec / m, test_kl=te_kl / m, seconds=secs, seconds_e2e=secs_e2e,
                   threads=a.threads, torch=torch.__version__)
        if a.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"epoch {epoch:2d}: train {row['train_loss']:.3f}  test {row['test_loss']:.3f} "
                  f"(rec {row['test_rec']:.3f}, KL {row['test_kl']:.3f})  {secs:.2f} s ({secs_e2e:.2f} s with test pass and checkpoint)", flush=True)
    ck.close()


if __name__ == "__main__":
    main()
