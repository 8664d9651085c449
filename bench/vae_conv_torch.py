#!/usr/bin/python3
"""PyTorch reference for genphys's `keras-conv` VAE preset.

The conv VAE of ../shared/bench/torch_peer.py (the Keras example's architecture:
Conv2d 32, 64 (3x3, stride 2) -> Dense 16 -> latent 2; Dense 7*7*64 ->
ConvTranspose2d 64, 32 (stride 2) -> ConvTranspose2d 1), Bernoulli decoder on
grey-level pixels (BCE summed over pixels + KL, per example), Adam lr 1e-3,
batch 128, 30 epochs by default.  Data: Fashion-MNIST IDX files, pixels / 255.
Prints one line per epoch: train and test loss in nats per example (test loss with
a sampled z), the seconds the epoch's training steps took (`seconds`) and the whole
epoch took (`seconds_e2e`: with the test pass and the checkpoints, as in
vae_mlp_torch.py).

    /usr/bin/python3 bench/vae_conv_torch.py [--data DIR] [--epochs 30] [--threads 2] [--limit N] [--json]
"""
import argparse
import json
import sys
import time

sys.dont_write_bytecode = True  # importing vae_mlp_torch must not leave bench/__pycache__ in the tree

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_mlp_torch import Checkpointer, load  # same IDX reader and checkpoints


class ConvVae(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 32, 3, stride=2, padding=1)
        s.c2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        s.d, s.mu, s.lv = nn.Linear(7 * 7 * 64, 16), nn.Linear(16, 2), nn.Linear(16, 2)
        s.e = nn.Linear(2, 7 * 7 * 64)
        s.t1 = nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1)
        s.t2 = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)
        s.t3 = nn.ConvTranspose2d(32, 1, 3, stride=1, padding=1)

    def forward(s, x):
        h = F.relu(s.c2(F.relu(s.c1(x)))).flatten(1)
        h = F.relu(s.d(h))
        mu, lv = s.mu(h), s.lv(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        g = F.relu(s.e(z)).view(-1, 64, 7, 7)
        logits = s.t3(F.relu(s.t2(F.relu(s.t1(g)))))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
        return rec, kl


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first n training images (the test split stays whole)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, xte = load(a.data, "train", a.limit).view(-1, 1, 28, 28), load(a.data, "t10k").view(-1, 1, 28, 28)
    ck = Checkpointer()
    model = ConvVae()
    print(json.dumps(dict(params=sum(p.numel() for p in model.parameters()))) if a.json else
          f"parameters: {sum(p.numel() for p in model.parameters())}", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(len(xtr))
        tr_rec = tr_kl = 0.0
        t0 = time.perf_counter()
        for i in range(0, len(xtr), a.batch):
            x = xtr[perm[i:i + a.batch]]
            opt.zero_grad(set_to_none=True)
            rec, kl = model(x)
            ((rec + kl) / len(x)).backward()  # mean over the batch, as torch_peer.py (Keras reduces the same way)
            opt.step()
            tr_rec += rec.item()
            tr_kl += kl.item()
        secs = time.perf_counter() - t0
        te_rec = te_kl = 0.0
        with torch.no_grad():
            for i in range(0, len(xte), 500):
                rec, kl = model(xte[i:i + 500])
                te_rec += rec.item()
                te_kl += kl.item()
        n, m = len(xtr), len(xte)
        ck.epoch(model, opt, epoch, (te_rec + te_kl) / m)
        secs_e2e = time.perf_counter() - t0
        row = dict(impl="torch", model="keras-conv", epoch=epoch, train_loss=(tr_rec + tr_kl) / n, train_rec=tr_rec / n, train_kl=tr_kl / n,
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
