"""DCGAN's 4x4 stride-2 convolutions as one matrix product each, for the layers where that beats oneDNN.

On a 2-core AVX-512 CPU (bench/conv_kernels.py) oneDNN runs the wide layers with small images in training - 256 ->
512 channels at 8 -> 4 px, and its transposed mirror in G - at 120-140 GFLOP/s: it reorders the weights into its
blocked layout on every call and its kernels are tuned for larger images. The same layers as im2col + one GEMM on
channels-last data run at 185-223 GFLOP/s (80-92% of the fp32 matmul ceiling). On the large-image layers the
patches cost more memory traffic than the GEMM saves and oneDNN wins. So neither is chosen by hand:
:func:`tune_gemm_layers` times both on each layer's real shape when a run starts, and the run's config records which
layers use the GEMM form, so a resumed run computes exactly what it computed before.

The layers stay ``nn.Conv2d`` / ``nn.ConvTranspose2d`` (same parameters, same state_dict): only ``forward`` differs.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

_K, _S, _P = 4, 2, 1  # the only geometry the GEMM form implements: DCGAN's up/down-sampling convolution


def _im2col(xh: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """(N, H, W, C) channels-last data -> (N*Ho*Wo, 16*C) patches, ordered (ky, kx, c)."""
    n, h, w, c = xh.shape
    xp = F.pad(xh, (0, 0, _P, _P, _P, _P))
    ho, wo = (h + 2 * _P - _K) // _S + 1, (w + 2 * _P - _K) // _S + 1
    s_n, s_h, s_w, s_c = xp.stride()
    windows = xp.as_strided((n, ho, wo, _K, _K, c), (s_n, _S * s_h, _S * s_w, s_h, s_w, s_c))
    return windows.reshape(n * ho * wo, _K * _K * c), ho, wo


def _tap_range(k: int, size: int, n_patches: int) -> tuple[slice, slice]:
    """For kernel tap ``k``: the output rows (stride 2) it writes inside the image, and the patch rows they come
    from. Row ``i`` of patches lands on ``2i + k - 1``; the ones that land in the padding are dropped."""
    lo = max(0, (_S - k + _P - 1) // _S)
    hi = min(n_patches - 1, (size - 1 - k + _P) // _S)
    start = _S * lo + k - _P
    return slice(start, start + _S * (hi - lo) + 1, _S), slice(lo, hi + 1)


def _col2im(cols: torch.Tensor, n: int, h: int, w: int, c: int, ho: int, wo: int,
            channels_last: bool) -> torch.Tensor:
    """The adjoint of :func:`_im2col`: add each patch back where it came from, straight into an (N, C, H, W)
    tensor in the asked memory format (no padded buffer to crop and copy)."""
    patches = cols.view(n, ho, wo, _K, _K, c)
    out = torch.empty((n, c, h, w), dtype=cols.dtype, device=cols.device,
                      memory_format=torch.channels_last if channels_last else torch.contiguous_format).zero_()
    oh = out.permute(0, 2, 3, 1)  # an NHWC view: contiguous when the output is channels-last
    for ky in range(_K):
        rows, prow = _tap_range(ky, h, ho)
        for kx in range(_K):
            cols_, pcol = _tap_range(kx, w, wo)
            oh[:, rows, cols_, :] += patches[:, prow, pcol, ky, kx, :]
    return out


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def _as_nchw(yh: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """(N, H, W, C) -> an (N, C, H, W) tensor in the memory format the layer's input had."""
    return yh.permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def _flat_weight(weight: torch.Tensor) -> torch.Tensor:
    """(A, B, 4, 4) -> (A, 16*B) in (ky, kx, b) order, matching the patches."""
    return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)


class _ConvGemm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        n, c, h, w = x.shape
        cols, ho, wo = _im2col(x.permute(0, 2, 3, 1))
        # the patches are only needed for the weight gradient (not in G's step, where D is frozen)
        ctx.save_for_backward(cols if weight.requires_grad else None, weight)
        ctx.shape = (n, c, h, w, ho, wo)
        ctx.channels_last = _is_channels_last(x)
        if not ctx.channels_last:
            return _as_nchw((cols @ _flat_weight(weight).t()).view(n, ho, wo, -1), False)
        # channels-last output is the GEMM's own layout: write it in place (returning a view is not allowed here)
        out = torch.empty((n, weight.shape[0], ho, wo), dtype=x.dtype, device=x.device,
                          memory_format=torch.channels_last)
        torch.mm(cols, _flat_weight(weight).t(), out=out.permute(0, 2, 3, 1).view(n * ho * wo, -1))
        return out

    @staticmethod
    @once_differentiable  # no double backward: a gradient penalty keeps the library kernels
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        n, c, h, w, ho, wo = ctx.shape
        g = grad.permute(0, 2, 3, 1).reshape(n * ho * wo, -1)
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = _col2im(g @ _flat_weight(weight), n, h, w, c, ho, wo, ctx.channels_last)
        if ctx.needs_input_grad[1]:
            grad_w = (g.t() @ cols).view(weight.shape[0], _K, _K, c).permute(0, 3, 1, 2)
        return grad_x, grad_w


class _ConvTransposeGemm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):  # weight: (C_in, C_out, 4, 4), as nn.ConvTranspose2d holds it
        n, c_in, h, w = x.shape
        c_out = weight.shape[1]
        xh = x.permute(0, 2, 3, 1).reshape(n * h * w, c_in)
        ctx.save_for_backward(xh if weight.requires_grad else None, weight)
        ctx.shape = (n, c_in, h, w, c_out)
        ctx.channels_last = _is_channels_last(x)
        return _col2im(xh @ _flat_weight(weight), n, _S * h, _S * w, c_out, h, w, ctx.channels_last)

    @staticmethod
    @once_differentiable  # no double backward: a gradient penalty keeps the library kernels
    def backward(ctx, grad):
        xh, weight = ctx.saved_tensors
        n, c_in, h, w, c_out = ctx.shape
        cols, _, _ = _im2col(grad.permute(0, 2, 3, 1))
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = _as_nchw((cols @ _flat_weight(weight).t()).view(n, h, w, c_in), ctx.channels_last)
        if ctx.needs_input_grad[1]:
            grad_w = (xh.t() @ cols).view(c_in, _K, _K, c_out).permute(0, 3, 1, 2)
        return grad_x, grad_w


def conv_gemm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv2d(x, weight, stride=2, padding=1)`` as im2col + one GEMM."""
    return _ConvGemm.apply(x, weight)


def conv_transpose_gemm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, stride=2, padding=1)`` as one GEMM + col2im."""
    return _ConvTransposeGemm.apply(x, weight)


def gemm_capable(module: nn.Module) -> bool:
    """Whether the GEMM form computes exactly this layer: 4x4, stride 2, padding 1, no bias, groups, dilation or
    output padding."""
    if not isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) or module.bias is not None:
        return False
    plain = module.groups == 1 and module.dilation == (1, 1) and module.padding_mode == "zeros"
    if isinstance(module, nn.ConvTranspose2d) and module.output_padding != (0, 0):
        return False
    return plain and module.kernel_size == (_K, _K) and module.stride == (_S, _S) and module.padding == (_P, _P)


def _gemm_forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if x.dtype != module.weight.dtype or x.device.type != "cpu" or torch.is_autocast_enabled("cpu"):
        return type(module).forward(module, x)  # mixed precision or another device: the library kernel
    if isinstance(module, nn.ConvTranspose2d):
        return conv_transpose_gemm(x, module.weight)
    return conv_gemm(x, module.weight)


def set_gemm_layers(model: nn.Module, names: Iterable[str]) -> None:
    """Route the named layers through the GEMM form and all others through the library kernel."""
    names = set(names)
    unknown = names - {name for name, module in model.named_modules() if gemm_capable(module)}
    if unknown:
        raise ValueError(f"no 4x4 stride-2 layer named {', '.join(sorted(unknown))} in this model")
    for name, module in model.named_modules():
        if not gemm_capable(module):
            continue
        if name in names:
            module.forward = _gemm_forward.__get__(module)  # an instance attribute: the class stays nn.Conv2d
        else:
            module.__dict__.pop("forward", None)


def _time_pair(a: Callable[[], None], b: Callable[[], None], reps: int) -> tuple[float, float]:
    """Best-of-``reps`` seconds of ``a`` and of ``b``, alternating so that a drifting machine affects both alike."""
    a(), b()  # first calls pick kernels and allocate
    best = [float("inf"), float("inf")]
    for _ in range(reps):
        for i, fn in enumerate((a, b)):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best[0], best[1]


def tune_gemm_layers(model: nn.Module, run_forward: Callable[[], object], *, reps: int = 3,
                     margin: float = 1.05, check: Callable[[], None] | None = None,
                     ) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """Time each capable layer of ``model`` forward + backward on the input shape ``run_forward`` gives it, with
    oneDNN and with the GEMM form; return the layers where the GEMM form is faster by ``margin``, and the times
    (seconds: library, GEMM) per layer. The model's weights are not changed. ``check()`` is called before each
    layer (it raises to cancel: a Stop while a large model is measured need not wait for the rest)."""
    shapes: dict[str, tuple[torch.Size, bool]] = {}
    hooks = []
    for name, module in model.named_modules():
        if gemm_capable(module):
            def hook(mod, args, _name=name):
                x = args[0]
                shapes[_name] = (x.shape, _is_channels_last(x))
            hooks.append(module.register_forward_pre_hook(hook))
    modes = {m: m.training for m in model.modules()}
    model.eval()  # only the shapes are wanted: BatchNorm's running statistics must not move
    try:
        with torch.no_grad():
            run_forward()
    finally:
        for h in hooks:
            h.remove()
        for m, training in modes.items():
            m.training = training
    chosen, times = [], {}
    modules = dict(model.named_modules())
    gen = torch.Generator().manual_seed(0)  # not the global RNG: a run that measures equals one that remembers
    for name, (shape, channels_last) in shapes.items():
        if check is not None:
            check()
        module = modules[name]
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        x = torch.randn(shape, generator=gen).contiguous(memory_format=fmt).requires_grad_(True)
        w = module.weight.detach().clone().requires_grad_(True)
        transposed = isinstance(module, nn.ConvTranspose2d)
        library = (lambda a, b: F.conv_transpose2d(a, b, stride=_S, padding=_P)) if transposed else (
            lambda a, b: F.conv2d(a, b, stride=_S, padding=_P))
        gemm = conv_transpose_gemm if transposed else conv_gemm

        def step(fn):
            out = fn(x, w)
            out.backward(torch.ones_like(out))

        t_lib, t_gemm = _time_pair(lambda: step(library), lambda: step(gemm), reps)
        times[name] = (t_lib, t_gemm)
        if t_gemm * margin < t_lib:
            chosen.append(name)
    return chosen, times
