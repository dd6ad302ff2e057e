"""Mamba-2 mixer: the parameters of mamba-ssm's `Mamba2Simple`, computed by a chunked SSD scan.

Parameter names and shapes equal `mamba_ssm.modules.mamba2_simple.Mamba2Simple` (ngroups = 1), so
weights move between this module and mamba-ssm unchanged; e.g. d_model 64, d_state 16, expand 4,
headdim 16: `in_proj.weight (560, 64)`, `conv1d.weight (288, 1, 4)`, `conv1d.bias (288)`,
`dt_bias (16)`, `A_log (16)`, `D (16)`, `norm.weight (256)`, `out_proj.weight (64, 256)`.

Per head h the layer runs the scalar-decay state space recurrence (state `[P, N]`):

    h_t = exp(dt_t * A) h_{t-1} + dt_t x_t B_t^T,     y_t = h_t C_t + D x_t

with in_proj output order (z, x, B, C, dt), a causal depthwise conv + SiLU over (x, B, C),
dt = softplus(dt + dt_bias), A = -exp(A_log), and a gated RMSNorm `rms(y * silu(z)) * weight`.

CPU (and any device without mamba-ssm): `ssd_scan`, the chunked "state space duality" algorithm
written as matrix products. Within a chunk the decay between steps s <= t is
exp(cs_t - cs_s) (cs = cumulative dt*A in the chunk). We split it as
exp(cs_t - r) * exp(r - cs_s) around the chunk's mid decay r = cs_last / 2, so the masked
C B^T matrix is shared by all heads of a group and the per-head decays become row/column
scalings: every product is one large GEMM with the heads folded into the columns, and no
`[batch, chunks, heads, Q, Q]` tensor is ever built (the memory traffic that made a plain SSD
port slow on CPU). The split is exact; its factors stay below exp(limit / 2). Where a chunk
decays more than `limit` (sharp, fast-forgetting heads), the exact segment-sum formulation runs
instead. CUDA with mamba-ssm importable: its fused Triton kernel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

try:  # mamba-ssm needs CUDA to import; anything going wrong means "not available"
    from mamba_ssm.ops.triton.ssd_combined import (
        mamba_split_conv1d_scan_combined as _fused_mamba2,
    )
except Exception:  # noqa: BLE001
    _fused_mamba2 = None

DECAY_LIMIT = 80.0
"""Largest within-chunk log-decay for the factored fast path (factors up to e^40 in float32)."""


FUSED_CHUNK = 256
"""SSD chunk of the fused GPU kernel (mamba-ssm's default)."""


def has_fused_kernel() -> bool:
    """Whether mamba-ssm's fused kernel is importable (CUDA machines with mamba-ssm)."""
    return _fused_mamba2 is not None


def _chunk(t: torch.Tensor, q: int) -> torch.Tensor:
    """Pad axis 1 to a multiple of q and split it: `[b, L, ...]` -> `[b, nc, q, ...]`."""
    pad = (-t.shape[1]) % q
    if pad:
        t = F.pad(t, [0, 0] * (t.ndim - 2) + [0, pad])
    return t.reshape(t.shape[0], t.shape[1] // q, q, *t.shape[2:])


def _pass_states(states: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """States entering each chunk: prev[c] = decay[c-1] * prev[c-1] + states[c-1].

    Shape: states `[b, g, nc, n, hp]`, decay `[b, g, nc, 1, hp]` -> `[b, g, nc, n, hp]`.
    """
    h = torch.zeros_like(states[:, :, 0])
    prev = []
    for c in range(states.shape[2]):  # loop over chunks only (L / Q steps)
        prev.append(h)
        h = h * decay[:, :, c] + states[:, :, c]
    return torch.stack(prev, 2)


def ssd_scan(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    chunk_size: int = 32,
    limit: float = DECAY_LIMIT,
) -> torch.Tensor:
    """The selective state space scan (without the D skip), by chunked matrix products.

    Args:
        x: inputs per head; dt: step sizes (after softplus); A: negative decay rates per head;
        B, C: input/output projections per group (heads split evenly into groups).
        chunk_size: SSD chunk length Q. limit: largest within-chunk log-decay for the fast path.
    Shape:
        x `[b, L, h, p]`, dt `[b, L, h]`, A `[h]`, B and C `[b, L, g, n]` -> `[b, L, h, p]`.
    """
    b, length, h, p = x.shape
    g = B.shape[2]
    if h % g or dt.shape != (b, length, h) or C.shape != B.shape or B.shape[:2] != (b, length):
        raise ValueError(
            f"ssd_scan shapes disagree: x {tuple(x.shape)}, dt {tuple(dt.shape)}, "
            f"B {tuple(B.shape)}, C {tuple(C.shape)}"
        )
    hg, q = h // g, chunk_size
    xc, dtc = _chunk(x, q), _chunk(dt, q)  # [b, nc, q, h, p], [b, nc, q, h]
    nc = xc.shape[1]
    cs = torch.cumsum(dtc * A, 2)  # [b, nc, q, h] cumulative log-decay inside each chunk
    total = cs[:, :, -1]  # [b, nc, h]
    # Group-major layouts: [b, g, nc, q, n] and [b, g, nc, q, hg * p].
    Bc = _chunk(B, q).permute(0, 3, 1, 2, 4)
    Cc = _chunk(C, q).permute(0, 3, 1, 2, 4)
    mask = torch.ones(q, q, dtype=torch.bool, device=x.device).tril()
    CB = (Cc @ Bc.transpose(-1, -2)).masked_fill_(~mask, 0.0)  # [b, g, nc, q, q]

    def heads_last(t: torch.Tensor) -> torch.Tensor:  # [b, nc, k, h, p] -> [b, g, nc, k, hg*p]
        return t.reshape(b, nc, t.shape[2], g, -1).permute(0, 3, 1, 2, 4)

    def per_head(w: torch.Tensor) -> torch.Tensor:  # [b, nc, 1, h] -> [b, g, nc, 1, hg*p]
        return heads_last(w.unsqueeze(-1).expand(*w.shape, p))

    def group_major(w: torch.Tensor) -> torch.Tensor:  # [b, nc, q, h] -> [b, g, nc, q, hg, 1]
        return w.reshape(b, nc, q, g, hg, 1).permute(0, 3, 1, 2, 4, 5)

    fast = total.numel() == 0 or -float(total.detach().min()) <= limit
    if fast:
        ref = total.unsqueeze(2) / 2  # [b, nc, 1, h]
        xw = heads_last(xc * (torch.exp(ref - cs) * dtc).unsqueeze(-1))
        # state at chunk end = exp(total - ref) * B^T xw, and exp(total - ref) = exp(ref)
        exp_ref = per_head(torch.exp(ref))  # [b, g, nc, 1, hg*p]
        states = (Bc.transpose(-1, -2) @ xw).mul_(exp_ref)
        # exp(cs_t) = exp(cs_t - ref) * exp(ref): the state term shares the diagonal's scaling
        prev = _pass_states(states, per_head(torch.exp(total).unsqueeze(2)))
        y = torch.matmul(CB, xw)
        y = torch.baddbmm(  # y + C @ prev in one pass over y
            y.view(-1, q, hg * p), Cc.reshape(-1, q, Cc.shape[-1]), prev.mul_(exp_ref).flatten(0, 2)
        )
        y = y.view(b, g, nc, q, hg, p).mul_(group_major(torch.exp(cs - ref)))
    else:
        seg = cs.permute(0, 1, 3, 2)  # [b, nc, h, q]
        decay = torch.exp((seg.unsqueeze(-1) - seg.unsqueeze(-2)).masked_fill(~mask, -math.inf))
        xdt = xc * dtc.unsqueeze(-1)  # [b, nc, q, h, p]
        cb_heads = CB.permute(0, 2, 1, 3, 4).repeat_interleave(hg, 2)  # [b, nc, h, q, q]
        y = (cb_heads * decay) @ xdt.permute(0, 1, 3, 2, 4)  # [b, nc, h, q, p]
        y_diag = heads_last(y.permute(0, 1, 3, 2, 4))
        states = Bc.transpose(-1, -2) @ heads_last(
            xdt * torch.exp(total.unsqueeze(2) - cs).unsqueeze(-1)
        )
        prev = _pass_states(states, per_head(torch.exp(total).unsqueeze(2)))
        y_off = (Cc @ prev).view(b, g, nc, q, hg, p) * group_major(torch.exp(cs))
        y = y_diag.view(b, g, nc, q, hg, p) + y_off
    y = y.permute(0, 2, 3, 1, 4, 5).reshape(b, nc * q, h, p)
    return y[:, :length]


def naive_scan(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor
) -> torch.Tensor:
    """Reference: the recurrence step by step (slow; tests only). Shapes as `ssd_scan`."""
    b, length, h, p = x.shape
    g, n = B.shape[2:]
    group = torch.arange(h, device=x.device) // (h // g)
    state = x.new_zeros(b, h, p, n)
    out = []
    for t in range(length):
        Bt, Ct = B[:, t, group], C[:, t, group]  # [b, h, n]
        state = torch.exp(dt[:, t] * A)[..., None, None] * state + (
            dt[:, t, :, None, None] * x[:, t, :, :, None] * Bt[:, :, None, :]
        )
        out.append((state * Ct[:, :, None, :]).sum(-1))
    return torch.stack(out, 1)


class RMSNormGated(nn.Module):
    """Gated RMSNorm of Mamba-2 (norm after gate): `rms_norm(y * silu(z)) * weight`.

    Shape: y, z `[..., d]` -> `[..., d]`.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(y * F.silu(z), (y.shape[-1],), self.weight, self.eps)


class Mamba2(nn.Module):
    """Mamba-2 mixer with `Mamba2Simple`'s parameters (ngroups = 1, no in/out bias).

    Shape:
        u: `[B, L, d_model]` -> `[B, L, d_model]`.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 4,
        headdim: int = 16,
        chunk_size: int = 32,
        A_init_range: tuple[float, float] = (1.0, 16.0),
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
    ) -> None:
        super().__init__()
        self.d_model, self.d_state, self.d_conv = d_model, d_state, d_conv
        self.d_inner = expand * d_model
        if self.d_inner % headdim:
            raise ValueError(f"expand * d_model = {self.d_inner} is not a multiple of {headdim}")
        self.headdim, self.nheads, self.chunk_size = headdim, self.d_inner // headdim, chunk_size
        conv_dim = self.d_inner + 2 * d_state
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner + 2 * d_state + self.nheads, bias=False)
        self.conv1d = nn.Conv1d(conv_dim, conv_dim, d_conv, groups=conv_dim, padding=d_conv - 1)
        # Initialisation as mamba-ssm: dt log-uniform in [dt_min, dt_max], A uniform in range.
        dt = torch.exp(
            torch.rand(self.nheads) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        ).clamp(min=dt_init_floor)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.A_log = nn.Parameter(torch.empty(self.nheads).uniform_(*A_init_range).log())
        self.D = nn.Parameter(torch.ones(self.nheads))
        self.norm = RMSNormGated(self.d_inner)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.ndim != 3 or u.shape[-1] != self.d_model:
            raise ValueError(f"Mamba2 expects [B, L, {self.d_model}], got {tuple(u.shape)}")
        A = -torch.exp(self.A_log.float())
        if u.is_cuda and _fused_mamba2 is not None:
            return self._fused(u, A)
        b, length, _ = u.shape
        # Pad once to whole chunks (cheaper here, at d_model channels, than inside the scan);
        # the padding trails the causal scan, so it never reaches the kept outputs.
        u = F.pad(u, (0, 0, 0, (-length) % self.chunk_size))
        padded = u.shape[1]
        z, xbc, dt = torch.split(
            self.in_proj(u), [self.d_inner, self.d_inner + 2 * self.d_state, self.nheads], -1
        )
        dt = F.softplus(dt + self.dt_bias)
        xbc = F.silu(self._causal_conv(xbc))
        x, B, C = torch.split(xbc, [self.d_inner, self.d_state, self.d_state], -1)
        x = x.reshape(b, padded, self.nheads, self.headdim)
        y = ssd_scan(
            x.float(),
            dt.float(),
            A,
            B.float().unsqueeze(2),
            C.float().unsqueeze(2),
            self.chunk_size,
        ).to(x.dtype)
        y = torch.addcmul(y, x, self.D.to(x.dtype)[:, None]).reshape(b, padded, self.d_inner)
        return self._norm_out(y[:, :length], z[:, :length])

    def _norm_out(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """`out_proj(norm(y, z))` with the norm's weight folded into out_proj and its per-step
        scale applied after the projection, on d_model instead of d_inner channels."""
        y = y * F.silu(z)
        ms = torch.linalg.vector_norm(y, dim=-1, keepdim=True).square() / self.d_inner
        weight = self.out_proj.weight * self.norm.weight
        return F.linear(y, weight).mul_(torch.rsqrt(ms + self.norm.eps))

    def _causal_conv(self, xbc: torch.Tensor) -> torch.Tensor:
        """Depthwise causal conv in channels-last layout (shifted multiply-adds, no transposes)."""
        k, length = self.d_conv, xbc.shape[1]
        w = self.conv1d.weight[:, 0]  # [c, k]; tap k-1 multiplies the current step
        out = torch.addcmul(self.conv1d.bias, xbc, w[:, k - 1])
        for j in range(k - 1):  # earlier taps add onto later steps: causal, no padded copy
            shift = k - 1 - j
            if shift < length:
                out[:, shift:].addcmul_(xbc[:, : length - shift], w[:, j])
        return out

    def _fused(self, u: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        return _fused_mamba2(
            self.in_proj(u),
            self.conv1d.weight[:, 0],
            self.conv1d.bias,
            self.dt_bias,
            A,
            D=self.D,
            chunk_size=FUSED_CHUNK,  # the result does not depend on it; this suits the GPU
            activation="silu",
            rmsnorm_weight=self.norm.weight,
            rmsnorm_eps=self.norm.eps,
            outproj_weight=self.out_proj.weight,
            outproj_bias=None,
            headdim=self.headdim,
            ngroups=1,
            norm_before_gate=False,
        )


class BiMamba2(nn.Module):
    """Bidirectional Mamba-2: one mixer forward, one over the flipped sequence, concatenated.

    Shape:
        u: `[B, L, d_model]` -> `[B, L, 2 * d_model]`.
    """

    def __init__(self, d_model: int, **mamba_kwargs) -> None:
        super().__init__()
        self.forward_mamba = Mamba2(d_model, **mamba_kwargs)
        self.backward_mamba = Mamba2(d_model, **mamba_kwargs)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        back = self.backward_mamba(u.flip(1)).flip(1)
        return torch.cat([self.forward_mamba(u), back], -1)
