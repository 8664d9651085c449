#!/usr/bin/python3
"""Load a `genphys export --format torch-state-dict` file into PyTorch and score data with it.

    /usr/bin/python3 bench/export_check.py EXPORT.safetensors DATA.npy
    /usr/bin/python3 bench/export_check.py --npz EXPORT.npz

VAE exports (pytorch/examples vae/main.py module, fc1 fc21 fc22 fc3 fc4): loads the
state dict with strict=True and, deterministically (z = mu, no sampling), prints per
example the reconstruction term rec = BCE-with-logits summed over pixels and
KL(q(z|x) || N(0, I)), in float64.  RBM exports (W [nv, nh], bv, bh): prints the free
energy of every row of DATA and, for nv <= 20, log Z by enumerating the visible states
and log p(v) = -F(v) - log Z.  --npz prints every array of an .npz (names, shapes,
values) as numpy.load reads it.  Output: one JSON object on stdout.
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I8": np.int8, "U8": np.uint8}


def read_safetensors(path):
    """The tensors (numpy arrays) and metadata of a safetensors file (format: 8-byte LE header length, JSON header, data)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(buf[base + a:base + b], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    return out, json.loads(meta["genphys"])


def act(name):
    import torch
    import torch.nn.functional as F

    return {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "elu": F.elu,
            "leakyRelu": lambda x: F.leaky_relu(x, 0.2), "softplus": F.softplus, "linear": lambda x: x}[name]


def check_vae(tensors, meta, x):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    if meta["config"]["decoder"] != "bernoulli":
        raise SystemExit(f"export_check: decoder '{meta['config']['decoder']}' not handled (bernoulli only)")
    f = act(meta["config"]["arch"]["activation"])

    class VAE(nn.Module):
        # The pytorch/examples vae/main.py module, sized from the export.
        def __init__(self, d, h_enc, k, h_dec):
            super().__init__()
            self.fc1 = nn.Linear(d, h_enc)
            self.fc21 = nn.Linear(h_enc, k)
            self.fc22 = nn.Linear(h_enc, k)
            self.fc3 = nn.Linear(k, h_dec)
            self.fc4 = nn.Linear(h_dec, d)

        def encode(self, x):
            h = f(self.fc1(x))
            return self.fc21(h), self.fc22(h)

        def decode(self, z):
            return self.fc4(f(self.fc3(z)))

    h_enc, d = tensors["fc1.weight"].shape
    k = tensors["fc21.weight"].shape[0]
    h_dec = tensors["fc3.weight"].shape[0]
    model = VAE(d, h_enc, k, h_dec).double()
    model.load_state_dict({n: torch.from_numpy(a.astype(np.float64)) for n, a in tensors.items()}, strict=True)
    xt = torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float64))
    with torch.no_grad():
        mu, logvar = model.encode(xt)
        logits = model.decode(mu)
        rec = F.binary_cross_entropy_with_logits(logits, xt, reduction="none").sum(1)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), 1)
    return {"kind": "vae", "n": int(xt.shape[0]), "rec": rec.tolist(), "kl": kl.tolist(), "mu": mu.tolist()}


def check_rbm(tensors, meta, v):
    import torch

    units = meta["units"]
    if units["visible"] == "gaussian" or units["hidden"] == "gaussian":
        raise SystemExit("export_check: Gaussian units not handled (binary and spin RBMs only)")
    W = torch.from_numpy(tensors["W"].astype(np.float64))
    bv = torch.from_numpy(tensors["bv"].astype(np.float64))
    bh = torch.from_numpy(tensors["bh"].astype(np.float64))
    nv, nh = W.shape
    spin = units["hidden"] == "pm1"
    states = (-1.0, 1.0) if units["visible"] == "pm1" else (0.0, 1.0)

    def free_energy(vv):
        # F(v) = -bv.v - sum_j log sum_{h_j} exp(h_j x_j), x = bh + v W (E = -bv.v - bh.h - v W h).
        x = vv @ W + bh
        lp = torch.log(2 * torch.cosh(x)) if spin else torch.nn.functional.softplus(x)
        return -(vv @ bv) - lp.sum(1)

    vt = torch.from_numpy(v.reshape(-1, nv).astype(np.float64))
    out = {"kind": "rbm", "n": int(vt.shape[0]), "free_energy": free_energy(vt).tolist()}
    if nv <= 20:
        idx = torch.arange(2 ** nv).unsqueeze(1)
        bits = ((idx >> torch.arange(nv)) & 1).double()
        allv = states[0] + (states[1] - states[0]) * bits
        log_z = float(torch.logsumexp(-free_energy(allv), 0))
        out["log_z"] = log_z
        out["log_prob"] = [-fe - log_z for fe in out["free_energy"]]
        out["mean_log_likelihood"] = float(np.mean(out["log_prob"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("data", nargs="?")
    ap.add_argument("--npz", action="store_true", help="print the arrays of an .npz")
    a = ap.parse_args()
    if a.npz:
        with np.load(a.export) as z:
            res = {k: {"dtype": str(z[k].dtype), "shape": list(z[k].shape), "values": z[k].ravel().tolist()} for k in z.files}
        print(json.dumps(res))
        return
    if a.data is None:
        raise SystemExit("export_check: give the .npy data file")
    tensors, meta = read_safetensors(a.export)
    x = np.load(a.data)
    if meta["genphysKind"] == "vae":
        res = check_vae(tensors, meta, x)
    elif meta["genphysKind"] == "rbm":
        res = check_rbm(tensors, meta, x)
    else:
        raise SystemExit(f"export_check: kind '{meta['genphysKind']}' not handled")
    import torch
    res["torch"] = torch.__version__
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main()
