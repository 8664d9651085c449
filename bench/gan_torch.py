#!/usr/bin/python3
"""PyTorch reference for genphys's `keras-dcgan` GAN preset, for accuracy side by side.

The network of ../shared/bench/torch_peer.py's `gan-dcgan-keras-b64` (the TensorFlow DCGAN
tutorial): G dense 100 -> 7x7x256 (no bias) -> BN -> LeakyReLU(0.3) -> convT 128 (5x5, s1)
-> BN -> LeakyReLU -> convT 64 (5x5, s2) -> BN -> LeakyReLU -> convT 1 (5x5, s2) -> tanh, no
biases; D conv 64 (5x5, s2) -> LeakyReLU(0.3) -> dropout 0.3 -> conv 128 (5x5, s2) -> LeakyReLU
-> dropout 0.3 -> flatten -> dense 1 (logit).  Non-saturating BCE with logits, no label
smoothing, Adam 1e-4 for both nets, batch 64, one D and one G step per batch, z ~ N(0, 1).
Data: Fashion-MNIST (or MNIST) IDX files, pixels p as p/127.5 - 1 in float32, as genphys.

torch_peer.py times one step and does not care about initial values or the order of the two
updates; genphys's preset (src/gan/presets.ts, networks.ts, train.ts) does.  The two differ,
and by default this script follows genphys, so that accuracy can be compared:

  what                      genphys keras-dcgan (default here)      torch_peer.py (--peer)
  init                      Glorot-uniform kernels, zero biases     PyTorch defaults (U(+-1/sqrt(fan_in))
                            (Keras)                                  kernels and D biases)
  Adam eps                  1e-7 (Keras)                            1e-8 (PyTorch)
  step                      alternating: D step on G(z1), then G    simultaneous: one G(z), both
                            step on G(z2) through the updated D     gradients at the same weights
                            (BN statistics updated by the G pass)
  'same' padding, stride 2  TensorFlow's: pad 1 before, 2 after     symmetric padding 2 (and
                            (conv), crop 1 before (convT)           output_padding 1): a 1-pixel shift
  BN moving variance        biased batch variance (Keras 3)         unbiased (PyTorch); moving stats
                                                                    matter only for sampling
  BN decay / eps            0.99 / 1e-3 in both
  batch                     genphys's preset default is 256: run genphys with --batch 64
  epoch                     floor(n/64) steps, the remainder dropped, as genphys

NHWC (genphys) and NCHW (here) order the dense layers' units differently; with i.i.d. initial
weights that is a relabelling, the same network in distribution.  No EMA of G (genphys's
default --ema 0).  Samples are drawn with G in inference mode (BN moving statistics), as
`gan eval` does, and written as float32 [N, 28, 28] in [-1, 1] for `genphys classifier score`.
Threads: torch_peer.py's best setting for the nets on this machine (it tries torch 1 and 2
intra-op threads with OpenBLAS 1 or 2; BENCHMARKS.md session 4: torch 2, OpenBLAS 1), so
--threads defaults to 2 and OPENBLAS_NUM_THREADS to 1 unless set.

    /usr/bin/python3 bench/gan_torch.py [--data DIR] [--epochs 50] [--seed 1] [--threads 2] [--limit N]
                                        [--samples 1000] [--out samples.npy] [--peer] [--json]
"""
import argparse
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # importing vae_mlp_torch must not leave bench/__pycache__ in the tree
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/torch load OpenBLAS

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_mlp_torch import find, read_idx  # same IDX reader

NZ = 100


def load_signed(d, prefix, limit=None):
    """Images as float32 [n, 1, 28, 28], p/127.5 - 1 computed in float64 and rounded once (genphys's pixelsToSigned)."""
    x = read_idx(find(d, f"{prefix}-images-idx3-ubyte")).reshape(-1, 1, 28, 28)
    if limit is not None:
        x = x[:limit]
    return torch.from_numpy((x.astype(np.float64) / 127.5 - 1).astype(np.float32))


class BN(nn.Module):
    """BatchNorm over all axes but the channels, decay 0.99, eps 1e-3; moving variance biased (Keras) or unbiased (PyTorch)."""

    def __init__(s, c, unbiased):
        super().__init__()
        s.gamma, s.beta = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))
        s.register_buffer("mean", torch.zeros(c))
        s.register_buffer("var", torch.ones(c))
        s.unbiased, s.decay, s.eps = unbiased, 0.99, 1e-3
        s.update = True

    def forward(s, x):
        axes = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        if not s.training:
            return (x - s.mean.view(shape)) * torch.rsqrt(s.var.view(shape) + s.eps) * s.gamma.view(shape) + s.beta.view(shape)
        mean = x.mean(axes)
        var = x.var(axes, unbiased=False)
        if s.update:
            with torch.no_grad():
                count = x.numel() // x.shape[1]
                corr = count / (count - 1) if s.unbiased and count > 1 else 1.0
                s.mean.mul_(s.decay).add_(mean, alpha=1 - s.decay)
                s.var.mul_(s.decay).add_(var, alpha=corr * (1 - s.decay))
        return (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + s.eps) * s.gamma.view(shape) + s.beta.view(shape)


class G(nn.Module):
    def __init__(s, tf_same, unbiased):
        super().__init__()
        s.tf_same = tf_same
        s.fc = nn.Linear(NZ, 7 * 7 * 256, bias=False)
        s.b0 = BN(7 * 7 * 256, unbiased)
        s.t1 = nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False)
        s.b1 = BN(128, unbiased)
        if tf_same:
            # Full (padding-0) transposed convolutions, cropped as TensorFlow's 'same' does below.
            s.t2 = nn.ConvTranspose2d(128, 64, 5, stride=2, bias=False)
            s.t3 = nn.ConvTranspose2d(64, 1, 5, stride=2, bias=False)
        else:
            s.t2 = nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False)
            s.t3 = nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False)
        s.b2 = BN(64, unbiased)

    def up(s, conv, h):
        y = conv(h)
        if s.tf_same:
            # TF 'same' for k 5, s 2: the forward conv pads 1 before and 2 after, so its transpose drops
            # 1 leading and 2 trailing rows/cols of the (2n + 3)-wide full output.
            n = 2 * h.shape[-1]
            y = y[:, :, 1:1 + n, 1:1 + n]
        return y

    def set_update(s, on):
        for b in (s.b0, s.b1, s.b2):
            b.update = on

    def forward(s, z):
        h = F.leaky_relu(s.b0(s.fc(z)), 0.3).view(-1, 256, 7, 7)
        h = F.leaky_relu(s.b1(s.t1(h)), 0.3)
        h = F.leaky_relu(s.b2(s.up(s.t2, h)), 0.3)
        return torch.tanh(s.up(s.t3, h))


class D(nn.Module):
    def __init__(s, tf_same):
        super().__init__()
        s.tf_same = tf_same
        pad = 0 if tf_same else 2
        s.c1 = nn.Conv2d(1, 64, 5, stride=2, padding=pad)
        s.c2 = nn.Conv2d(64, 128, 5, stride=2, padding=pad)
        s.fc = nn.Linear(7 * 7 * 128, 1)

    def conv(s, c, x):
        # TF 'same' for k 5, s 2 on an even side: 3 padding rows, 1 before and 2 after.
        return c(F.pad(x, (1, 2, 1, 2))) if s.tf_same else c(x)

    def forward(s, x):
        h = F.dropout(F.leaky_relu(s.conv(s.c1, x), 0.3), 0.3, s.training)
        h = F.dropout(F.leaky_relu(s.conv(s.c2, h), 0.3), 0.3, s.training)
        return s.fc(h.flatten(1))


def keras_init(*nets):
    """Glorot-uniform kernels U(+-sqrt(6/(fan_in + fan_out))), zero biases (Keras's defaults; genphys 'keras' init)."""
    for net in nets:
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                k = m.weight
                rf = k[0, 0].numel() if k.dim() > 2 else 1
                fan_a, fan_b = k.shape[0] * rf, k.shape[1] * rf  # symmetric in the two fans, so the layout does not matter
                bound = math.sqrt(6 / (fan_a + fan_b))
                with torch.no_grad():
                    k.uniform_(-bound, bound)
                    if m.bias is not None:
                        m.bias.zero_()


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first n training images")
    ap.add_argument("--samples", type=int, default=1000, help="images generated at the end")
    ap.add_argument("--out", default="samples.npy", help="where the samples go: float32 [N, 28, 28] in [-1, 1]")
    ap.add_argument("--peer", action="store_true", help="torch_peer.py's exact step instead of genphys's (see above)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = load_signed(a.data, "train", a.limit)
    g, d = G(tf_same=not a.peer, unbiased=a.peer), D(tf_same=not a.peer)
    if not a.peer:
        keras_init(g, d)
    eps = 1e-8 if a.peer else 1e-7
    og = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=eps)
    od = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=eps)
    info = dict(params_g=sum(p.numel() for p in g.parameters()), params_d=sum(p.numel() for p in d.parameters()),
                step="simultaneous (torch_peer)" if a.peer else "alternating (genphys)")
    print(json.dumps(info) if a.json else f"parameters: G {info['params_g']}, D {info['params_d']}; step {info['step']}", flush=True)
    B = a.batch
    steps = max(1, len(xtr) // B)
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(len(xtr))
        sd = sg = 0.0
        t0 = time.perf_counter()
        for i in range(steps):
            # Wraps around when the data hold fewer than one batch, as genphys.
            real = xtr[perm[torch.arange(i * B, (i + 1) * B) % len(xtr)]]
            if a.peer:
                og.zero_grad(set_to_none=True)
                od.zero_grad(set_to_none=True)
                fake = g(torch.randn(B, NZ))
                lg = bce(d(fake), 1.0)
                ld = bce(d(real), 1.0) + bce(d(fake.detach()), 0.0)
                gg = torch.autograd.grad(lg, list(g.parameters()))
                gd = torch.autograd.grad(ld, list(d.parameters()))
                for p_, g_ in zip(g.parameters(), gg):
                    p_.grad = g_
                for p_, g_ in zip(d.parameters(), gd):
                    p_.grad = g_
                og.step()
                od.step()
            else:
                od.zero_grad(set_to_none=True)
                g.set_update(False)  # genphys's D step: batch statistics, moving averages untouched
                with torch.no_grad():
                    fake = g(torch.randn(B, NZ))
                g.set_update(True)
                ld = bce(d(real), 1.0) + bce(d(fake), 0.0)
                ld.backward()
                od.step()
                lg = bce(d(g(torch.randn(B, NZ))), 1.0)  # through the updated D, new noise, BN statistics updated
                for p_, g_ in zip(g.parameters(), torch.autograd.grad(lg, list(g.parameters()))):
                    p_.grad = g_
                og.step()
            sd += ld.item()
            sg += lg.item()
        secs = time.perf_counter() - t0
        row = dict(impl="torch", model="keras-dcgan", epoch=epoch, steps=steps, loss_d=sd / steps, loss_g=sg / steps,
                   seconds=secs, threads=a.threads, torch=torch.__version__)
        if a.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"epoch {epoch:3d}: D {row['loss_d']:.4f}  G {row['loss_g']:.4f}  {secs:.2f} s", flush=True)
    g.eval()
    t0 = time.perf_counter()
    out = []
    with torch.no_grad():
        for lo in range(0, a.samples, 256):
            out.append(g(torch.randn(min(256, a.samples - lo), NZ)).view(-1, 28, 28))
    x = torch.cat(out).numpy().astype(np.float32)
    np.save(a.out, x)
    row = dict(impl="torch", model="keras-dcgan", samples=len(x), out=a.out, seconds=time.perf_counter() - t0)
    print(json.dumps(row) if a.json else f"wrote {len(x)} samples to {a.out} ({row['seconds']:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
