"""Training on several processes at once: ``torchrun ... -m faceforge train`` runs the same Trainer in every
process, on PyTorch's own engine (``torch.distributed`` + ``DistributedDataParallel``).

What makes N processes compute what one does (for a model whose D keeps each sample to itself, or to groups
within one process's share; ``check_distributable``):

- every rank draws the *global* batch's indices, z and penalty weights from the same (seed, step) streams and
  keeps its own contiguous slice (:meth:`Group.part`), so rank r holds samples [r*b, (r+1)*b) of the batch a
  single process would hold;
- each rank's loss is a mean over its equal slice, and DDP averages the gradients: the mean of the slice means is
  the global mean. A loss that couples the batch (the relativistic ones compare each score with the batch's
  mean) reads the scores of the whole batch through :func:`gather`, whose backward hands each rank its slice of
  the gradient times the world size, so DDP's average again gives the one-process gradient;
- G and D are wrapped separately; the network not being trained in a phase runs inside ``no_sync()``;
- rank 0 alone writes the run folder and measures the speed choices, then shares them (:meth:`Group.decide`).

Single-process training uses :class:`Single`, whose methods do nothing, so the loop has one code path.
The process group comes from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT):
gloo on CPU, NCCL for CUDA tensors (with gloo beside it for the small CPU messages).
"""
from __future__ import annotations

import contextlib
import datetime
import os
from typing import Any, Callable, TypeVar

import torch

from faceforge.training.launch import check_distributable  # noqa: F401 - where the Trainer and the tests find it

T = TypeVar("T")


class Single:
    """One process: every helper is the identity, and this process writes the run folder."""

    world, rank, local_rank = 1, 0, 0
    active = False

    @property
    def writes(self) -> bool:
        """Does this process write the run folder (stats, grids, checkpoints, status, events)?"""
        return self.rank == 0

    def part(self, n: int) -> slice:
        """This rank's share of ``n`` global samples."""
        return slice(0, n)

    def take(self, x):
        """This rank's slice of a global batch (a tensor or None)."""
        return x

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def decide(self, fn: Callable[[], T]) -> T:
        return fn()

    def barrier(self) -> None:
        pass

    def wrap(self, module: torch.nn.Module, device: torch.device, *, partial: bool = False) -> torch.nn.Module:
        return module

    def no_sync(self, wrapped: torch.nn.Module):
        return contextlib.nullcontext()

    def close(self, *, together: bool = True) -> None:
        pass


class Group(Single):
    """A torchrun process group. Every rank must call the same collectives in the same order; the training step
    does so by construction (same steps, same branches: the decisions that could differ are shared)."""

    active = True

    def __init__(self, *, rank: int, world: int, local_rank: int):
        self.rank, self.world, self.local_rank = rank, world, local_rank

    def part(self, n: int) -> slice:
        b = n // self.world
        return slice(self.rank * b, (self.rank + 1) * b)

    def take(self, x):
        if x is None:
            return None
        if isinstance(x, (list, tuple)):
            return [self.take(v) for v in x]
        return x[self.part(x.shape[0])]

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """Every rank's (N,) scores in rank order, in fp32 (the losses are computed in fp32 anyway, and not every
        backend gathers bf16)."""
        return _Gather.apply(x.float(), self.world, self.rank)

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        out = t.detach().clone()
        torch.distributed.all_reduce(out)
        return out / self.world

    def any(self, flag: bool) -> bool:
        t = torch.tensor([1 if flag else 0], dtype=torch.int32)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def decide(self, fn: Callable[[], T]) -> T:
        """Rank 0 runs ``fn`` and every rank gets its result; an error on rank 0 is raised on every rank (as a
        ValueError with rank 0's message), so no rank waits forever for a rank that gave up."""
        box: list[Any] = [None]
        if self.rank == 0:
            try:
                box[0] = ("ok", fn())
            except BaseException as exc:  # shared first, then raised here too
                box[0] = ("error", f"{type(exc).__name__}: {exc}", type(exc).__name__)
                torch.distributed.broadcast_object_list(box, src=0)
                raise
        torch.distributed.broadcast_object_list(box, src=0)
        if box[0][0] == "error":
            if box[0][2] == "Cancelled":
                from faceforge.tasks import Cancelled

                raise Cancelled(f"rank 0 stopped: {box[0][1]}")
            raise ValueError(f"rank 0 failed: {box[0][1]}")
        return box[0][1]

    def barrier(self) -> None:
        torch.distributed.barrier()

    def wrap(self, module: torch.nn.Module, device: torch.device, *, partial: bool = False) -> torch.nn.Module:
        """``partial``: a step may leave some parameters out (a growing model's blocks not grown yet), which DDP
        must look for after each forward."""
        from torch.nn.parallel import DistributedDataParallel

        if device.type == "cuda":  # UNTESTED here (no GPU): one GPU per process, SyncBatchNorm for BatchNorm models
            module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
            return DistributedDataParallel(module, device_ids=[device.index if device.index is not None
                                                               else self.local_rank], find_unused_parameters=partial)
        return DistributedDataParallel(module, find_unused_parameters=partial)

    def no_sync(self, wrapped: torch.nn.Module):
        return wrapped.no_sync()

    def close(self, *, together: bool = True) -> None:
        """Leave together: a rank that tore its group down while rank 0 was still writing the last checkpoint
        (or with DDP wrappers still alive) sometimes aborted at exit in gloo ("terminate called without an active
        exception", 1 run in 4 here), failing torchrun's whole job after a finished run. After an error the ranks
        are not in step, so a barrier could wait for a rank stuck elsewhere: ``together=False`` leaves at once."""
        if torch.distributed.is_initialized():
            if together:
                import gc

                gc.collect()  # the DDP wrappers' reducers hold the group
                torch.distributed.barrier()
            torch.distributed.destroy_process_group()


class _Gather(torch.autograd.Function):
    """All ranks' (N,) scores concatenated in rank order. Every rank then computes the same loss of the whole
    batch, so the gradient reaching the gathered tensor is the same on every rank: each rank keeps its slice,
    times the world size, because DDP divides the sum of the ranks' gradients by the world size."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, world: int, rank: int) -> torch.Tensor:
        ctx.world, ctx.rank, ctx.n = world, rank, x.shape[0]
        parts = [torch.empty_like(x) for _ in range(world)]
        torch.distributed.all_gather(parts, x.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        n = ctx.n
        return grad[ctx.rank * n:(ctx.rank + 1) * n] * ctx.world, None, None


def launched_world() -> int:
    """How many processes torchrun started for this run (1 when not under torchrun)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


_CURRENT: Single | None = None


def from_env() -> Single:
    """The process group torchrun described in the environment (joined once per process), or :class:`Single`.

    Rendezvous is torchrun's (or MASTER_ADDR/MASTER_PORT for a hand-started group); the backend is gloo, plus
    NCCL for CUDA tensors when this PyTorch has a GPU (``cpu:gloo,cuda:nccl``: the speed choices and the resume
    state travel as CPU objects, the gradients on the GPU)."""
    global _CURRENT
    world = launched_world()
    if world <= 1:
        return Single()
    if _CURRENT is not None and _CURRENT.active and torch.distributed.is_initialized():
        return _CURRENT
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():  # UNTESTED here (no GPU)
        torch.cuda.set_device(local_rank)
        backend = "cpu:gloo,cuda:nccl"
    else:
        backend = "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend, rank=rank, world_size=world,
                                             timeout=datetime.timedelta(minutes=30))
    _CURRENT = Group(rank=rank, world=world, local_rank=local_rank)
    return _CURRENT


def close_current(*, together: bool = True) -> None:
    """Leave the process group (the CLI calls it when training ends; ``together=False`` after an error)."""
    global _CURRENT
    if _CURRENT is not None:
        _CURRENT.close(together=together)
    _CURRENT = None


def step_seed(seed: int, step: int, rank: int) -> int:
    """The global torch RNG's seed for one step of one rank in a multi-process run: models that draw from it while
    training (StyleGAN's per-pixel noise, style mixing) get independent draws on each rank, and a resume with any
    number of processes draws what the run would have drawn."""
    return (seed * 1_000_003 + step * 1_009 + rank * 7_919 + 12_345) % (2**63 - 1)


def follower_view(path):
    """The run folder as a process other than rank 0 sees it: it reads (checkpoints, config) but never writes."""
    from faceforge.runs import Run

    class FollowerRun(Run):
        def write_config(self, config) -> None:
            pass

        def append_stats(self, row) -> None:
            pass

        def truncate_stats(self, *, after_step: int) -> None:
            pass

        def prune_checkpoints(self, keep: int) -> None:
            pass

        def log_event(self, text: str, *, level: str = "info") -> None:
            pass

        def write_status(self, state: str, *, step: int, total_steps: int, message: str = "") -> None:
            pass

    return FollowerRun(path)
