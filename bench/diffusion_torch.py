#!/usr/bin/python3
"""PyTorch reference for genphys's `small-unet` DDPM on images, for accuracy side by side.

The network of ../shared/bench/torch_peer.py's `ddpm-unet32-b64` (the course's week-14 U-Net at
base 32), which is genphys's small-unet (src/diffusion/unet.ts) layer for layer:
ResBlock(i -> o): h = SiLU(GN8(conv3(x))) + Linear(SiLU(temb)); out = SiLU(GN8(conv3(h))) + skip(x)
(skip a 1x1 conv when i != o); enc1 1->32 @28, down 3x3 s2, enc2 32->64 @14, down, enc3 64->128 @7,
mid 128->128, up 4x4 s2 transposed (64) + enc2 -> dec2 128->64, up (32) + enc1 -> dec1 64->32,
out 1x1 -> 1; temb = Linear(128, 256) -> SiLU -> Linear(256, 128) of the sinusoidal embedding
(f_i = 10000^(-i/63), [sin, cos]) of t/T.  1,076,513 parameters, PyTorch's default init in both.

Training as `genphys diffusion train --arch small-unet` with its defaults (src/diffusion/train.ts,
src/cli/diffusion.ts): eps-prediction MSE (mean over pixels and batch), linear beta 1e-4 ... 0.02
over T = 1000 with t uniform in 1 ... T (alphabar_t = prod_{s<=t} (1 - beta_s)), Adam 2e-4
(0.9, 0.999, eps 1e-8), batch 128 with the last partial batch of an epoch kept, and an EMA of
the weights after every step with decay 0.9999 and TensorFlow's warm-up
d_k = min(0.9999, (1 + k)/(10 + k)) for update k = 0, 1, ..., starting from a copy of the
initial weights (src/diffusion/ema.ts).  Data: IDX pixels p as p/127.5 - 1 in float32.

At the end: DDIM (Song et al. 2021) with the EMA weights, 50 steps tau_i = round(i T/50) from
T to 0, eta = 0, x_hat0 clipped to [-1, 1] at every step and eps_hat recomputed from the
clipped x_hat0, as `genphys diffusion eval` samples; the last step returns x_hat0, so the
samples lie in [-1, 1].  Written as float32 [N, 28, 28] for `genphys classifier score`.

Differences from torch_peer.py (a step-time benchmark): it draws t in 0 ... T-1 and feeds t/T
(genphys and this script: t in 1 ... T, fed as t/T, the same alphabar; a 1/T shift of the
network's time input), uses batch 64 (genphys's default, used here, is 128) and keeps no EMA.
Threads: torch_peer.py's best setting for the nets on this machine (it tries torch 1 and 2
intra-op threads with OpenBLAS 1 or 2; BENCHMARKS.md session 4: torch 2, OpenBLAS 1), so
--threads defaults to 2 and OPENBLAS_NUM_THREADS to 1 unless set.

    /usr/bin/python3 bench/diffusion_torch.py [--data DIR] [--epochs 20] [--seed 1] [--threads 2] [--limit N]
                                              [--samples 1000] [--out samples.npy] [--json]
"""
import argparse
import copy
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # importing gan_torch (and vae_mlp_torch) must not leave bench/__pycache__ in the tree
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/torch load OpenBLAS

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_torch import load_signed  # the same [-1, 1] scaling as genphys

T, CH, EMB = 1000, 32, 128


class Emb(nn.Module):
    def forward(s, t):
        half = EMB // 2
        f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64) / (half - 1)).float()
        a = t[:, None] * f[None]
        return torch.cat([a.sin(), a.cos()], -1)


class Res(nn.Module):
    def __init__(s, i, o):
        super().__init__()
        s.c1, s.n1 = nn.Conv2d(i, o, 3, padding=1), nn.GroupNorm(8, o)
        s.tp = nn.Linear(EMB, o)
        s.c2, s.n2 = nn.Conv2d(o, o, 3, padding=1), nn.GroupNorm(8, o)
        s.rc = nn.Conv2d(i, o, 1) if i != o else nn.Identity()

    def forward(s, x, te):
        h = F.silu(s.n1(s.c1(x))) + s.tp(F.silu(te))[:, :, None, None]
        return F.silu(s.n2(s.c2(h))) + s.rc(x)


class UNet(nn.Module):
    def __init__(s, ch=CH):
        super().__init__()
        s.tm = nn.Sequential(Emb(), nn.Linear(EMB, 2 * EMB), nn.SiLU(), nn.Linear(2 * EMB, EMB))
        s.e1, s.d1 = Res(1, ch), nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        s.e2, s.d2 = Res(ch, 2 * ch), nn.Conv2d(2 * ch, 2 * ch, 3, stride=2, padding=1)
        s.e3, s.mid = Res(2 * ch, 4 * ch), Res(4 * ch, 4 * ch)
        s.u2, s.x2 = nn.ConvTranspose2d(4 * ch, 2 * ch, 4, stride=2, padding=1), Res(4 * ch, 2 * ch)
        s.u1, s.x1 = nn.ConvTranspose2d(2 * ch, ch, 4, stride=2, padding=1), Res(2 * ch, ch)
        s.out = nn.Conv2d(ch, 1, 1)

    def forward(s, x, tfrac):
        te = s.tm(tfrac)
        e1 = s.e1(x, te)
        e2 = s.e2(s.d1(e1), te)
        m = s.mid(s.e3(s.d2(e2), te), te)
        h = s.x2(torch.cat([s.u2(m), e2], 1), te)
        h = s.x1(torch.cat([s.u1(h), e1], 1), te)
        return s.out(h)


def schedule():
    """alphabar[0 ... T] in float64 with alphabar[0] = 1 (genphys's NoiseSchedule indexing)."""
    beta = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - beta, 0)])


@torch.no_grad()
def ddim(net, n, abar, steps=50, batch=256):
    """Deterministic DDIM (eta = 0), x_hat0 clipped to [-1, 1] and eps_hat recomputed from it, as genphys."""
    tau = [int(math.floor(i * T / steps + 0.5)) for i in range(steps + 1)]
    out = []
    for lo in range(0, n, batch):
        b = min(batch, n - lo)
        x = torch.randn(b, 1, 28, 28)
        for i in range(steps, 0, -1):
            t, tp = tau[i], tau[i - 1]
            a, ap = float(abar[t]), float(abar[tp])
            e = net(x, torch.full((b,), t / T))
            x0 = ((x - math.sqrt(1 - a) * e) / math.sqrt(a)).clamp(-1, 1)
            e = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
            x = math.sqrt(ap) * x0 + math.sqrt(max(0.0, 1 - ap)) * e
        out.append(x.view(-1, 28, 28))
    return torch.cat(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first n training images")
    ap.add_argument("--ema", type=float, default=0.9999, help="EMA decay (with the warm-up)")
    ap.add_argument("--samples", type=int, default=1000, help="images generated at the end")
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps")
    ap.add_argument("--out", default="samples.npy", help="where the samples go: float32 [N, 28, 28] in [-1, 1]")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = load_signed(a.data, "train", a.limit)
    net = UNet()
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8)
    abar = schedule()
    sa, sb = abar.sqrt().float(), (1 - abar).sqrt().float()
    n_params = sum(p.numel() for p in net.parameters())
    print(json.dumps(dict(params=n_params)) if a.json else f"parameters: {n_params}", flush=True)
    k = 0
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(len(xtr))
        tot = 0.0
        t0 = time.perf_counter()
        for lo in range(0, len(xtr), a.batch):
            x0 = xtr[perm[lo:lo + a.batch]]
            b = len(x0)
            t = torch.randint(1, T + 1, (b,))
            eps = torch.randn_like(x0)
            xt = sa[t][:, None, None, None] * x0 + sb[t][:, None, None, None] * eps
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(net(xt, t.float() / T), eps)
            loss.backward()
            opt.step()
            d = min(a.ema, (1 + k) / (10 + k))
            k += 1
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), net.parameters()):
                    pe.mul_(d).add_(p, alpha=1 - d)
            tot += loss.item() * b
        secs = time.perf_counter() - t0
        row = dict(impl="torch", model="small-unet", epoch=epoch, steps=math.ceil(len(xtr) / a.batch), loss=tot / len(xtr),
                   seconds=secs, threads=a.threads, torch=torch.__version__)
        if a.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"epoch {epoch:3d}: loss {row['loss']:.5f}  {secs:.2f} s", flush=True)
    t0 = time.perf_counter()
    x = ddim(ema.eval(), a.samples, abar, a.steps).numpy().astype(np.float32)
    np.save(a.out, x)
    row = dict(impl="torch", model="small-unet", sampler="ddim", steps=a.steps, eta=0, weights="ema", samples=len(x), out=a.out,
               sampling_seconds=time.perf_counter() - t0)
    print(json.dumps(row) if a.json else f"wrote {len(x)} samples (DDIM {a.steps} steps, EMA weights) to {a.out} in {row['sampling_seconds']:.2f} s", flush=True)


if __name__ == "__main__":
    main()
