"""One training step: n_critic discriminator steps, then one generator step, G_ema following (or several such
updates on parts of the batch: a progressive model at low resolution).

A mixin of :class:`faceforge.training.loop.Trainer` (which owns the models, optimisers, data and noise). One code
path for one process and many (training/distributed.py): every rank draws the global batch's indices, z and
penalty weights and keeps its slice; ``G_fwd``/``D_fwd`` are the DDP-wrapped networks (the plain ones in a single
process), and the network a phase does not train runs inside ``no_sync()``.
"""
from __future__ import annotations

import contextlib

import torch

from faceforge.models.layers import downsample
from faceforge.training import losses
from faceforge.training.conditioning_loss import auxiliary_loss, discriminate
from faceforge.training.distributed import step_seed
from faceforge.training.ema import update_ema
from faceforge.training.step_undo import StepUndo


class TrainStep:
    def _autocast(self):
        dtype = self.perf.autocast_dtype
        return torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)

    def train_step(self, acc: torch.Tensor) -> None:
        """One step: the batch's images once, as one update of D and G, or as several of a part of the batch each
        (a progressive model at low resolution: ``updates_per_step``). Losses accumulate into ``acc`` on the device:
        no host sync here, ``.tolist()`` happens only at logging ticks."""
        cfg, dist = self.config, self.dist
        B = cfg.schedule.batch_size  # the global batch; this rank trains on its part of each update's rows
        self.G.train()
        self.D.train()
        self._grow(self.G, self.D, images_seen=self.images_seen)
        if dist.active:  # the global RNG (StyleGAN's noise, style mixing): independent per rank, a function of step
            torch.manual_seed(step_seed(cfg.seed, self.step, dist.rank))
        # a Stop half-way drops the step exactly (one process only: ranks agree on stopping between steps)
        undo = None if dist.active else StepUndo(noise=self.noise, modules=(self.G, self.D))
        updates = self.G.updates_per_step(B) if self.caps.progressive else 1
        b = B // updates
        losses_g, losses_d = [], []
        for u in range(updates):  # only the first update may be dropped: no weight has moved before it
            loss_g, loss_d = self._update(acc, rows=slice(u * b, (u + 1) * b), undo=undo if u == 0 else None)
            losses_g.append(loss_g)
            losses_d.append(loss_d)
        self.step += 1
        self.images_seen += B * cfg.loss.n_critic
        with torch.no_grad():  # one (loss_g, loss_d) per step, however many updates it took
            self.step_losses.append(torch.stack([torch.stack(losses_g).mean(), torch.stack(losses_d).mean()]))

    def _update(self, acc: torch.Tensor, *, rows: slice, undo: StepUndo | None) -> tuple[torch.Tensor, torch.Tensor]:
        """n_critic discriminator steps, then one generator step, G_ema following, on ``rows`` of each draw's
        global batch. Returns the (detached, fp32) losses of G and of D's last step."""
        cfg, dist = self.config, self.dist
        kind = cfg.loss.kind
        b, zd = rows.stop - rows.start, cfg.model.z_dim
        relativistic = losses.relativistic(kind)
        self.D.requires_grad_(True)
        for c in range(cfg.loss.n_critic):
            real, y = self.data.batch(self.step * cfg.loss.n_critic + c, rows=rows, part=dist.part(b))
            z = dist.take(torch.randn(b, zd, device=self.device, generator=self.noise))
            last = c == cfg.loss.n_critic - 1  # only the last fake batch is trained through in G's step
            with self._autocast():
                with contextlib.nullcontext() if last else dist.no_sync(self.G_fwd):
                    if self.caps.multiscale:  # every scale of G's image, and the real batch pooled to each
                        fake = self.G_fwd(z, y, scales=True)
                        real = [downsample(real, f.shape[-1]) for f in fake]
                    else:
                        fake = self.G_fwd(z, y)
                        if self.caps.progressive:  # in a fade-in the reals blend two resolutions as G's images do
                            real = self.D.blend_reals(real)
                out_real, aux_real = discriminate(self.D_fwd, real, y)
                out_fake = self.D_fwd(_detached(fake), y)
            if c == 0 and undo is not None:  # Stop lands within a quarter of a step, not a whole one (1 s at 64 px)
                self._abandon_if_stopped(undo)
            if relativistic:  # each score is judged against the whole batch's mean: read every rank's scores
                loss_d = losses.d_loss(kind, dist.gather(out_real), dist.gather(out_fake))
            else:
                loss_d = losses.d_loss(kind, out_real, out_fake)
            if cfg.loss.drift:  # ProGAN: keeps a WGAN critic's scores from drifting far from zero
                loss_d = loss_d + cfg.loss.drift * out_real.float().pow(2).mean()
            if aux_real is not None:  # acgan: D learns to read y off real images
                loss_d = loss_d + auxiliary_loss(aux_real, y, self.label_kinds)
            if kind == "wgan-gp":  # one mixing weight per sample of the global batch, this rank's slice
                first = real[0] if isinstance(real, (list, tuple)) else real
                alpha = dist.take(torch.rand(b, 1, 1, 1, device=first.device, generator=self.noise))
                loss_d = loss_d + cfg.loss.gp_weight * losses.gradient_penalty(self.D_fwd, real, fake, y,
                                                                               alpha=alpha)
            d_step = self.step * cfg.loss.n_critic + c
            if cfg.loss.r1_gamma and d_step % cfg.loss.r1_every == 0:
                # lazy R1 (StyleGAN 2): every r1_every-th D step, scaled up by r1_every to keep its weight
                gamma = losses.r1_gamma(cfg.loss.r1_gamma, resolution=cfg.model.resolution, batch=b)
                loss_d = loss_d + (gamma / 2 * cfg.loss.r1_every) * losses.r1_penalty(self.D_fwd, real, y)
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(loss_d).backward()
            if c == 0 and undo is not None:
                self._abandon_if_stopped(undo)
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
        # G step reuses the last fake batch (as the PyTorch DCGAN example does) and skips D's weight gradients
        self.D.requires_grad_(False)
        with self._autocast(), dist.no_sync(self.D_fwd):
            out_g, aux_g = discriminate(self.D_fwd, fake, y)
            # a relativistic loss compares with the real images' scores under D as it is now (no gradient needed)
            real_g = self.D_fwd(real, y).detach() if relativistic else None
            if relativistic:
                loss_g = losses.g_loss(kind, dist.gather(out_g), dist.gather(real_g))
            else:
                loss_g = losses.g_loss(kind, out_g, real_g)
            if self.path_length.due(self.step):  # StyleGAN 2's path-length regulariser (models with W, optional)
                # several processes: each rank's own projection noise (the global RNG, seeded per rank and step)
                loss_g = loss_g + self.path_length(self.G, z, y, None if dist.active else self.noise)
        if aux_g is not None:  # acgan: G's fakes must read as the y they were made for
            loss_g = loss_g + auxiliary_loss(aux_g, y, self.label_kinds)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        beta = min(cfg.optim.ema_beta, (1 + self.step) / (10 + self.step))  # ramp up so early samples are not stale
        update_ema(self.G_ema, self.G, beta)
        with torch.no_grad():
            loss_g, loss_d = loss_g.detach().float(), loss_d.detach().float()
            acc += torch.stack([
                loss_g, loss_d,
                torch.sigmoid(out_real.detach().float()).mean(), torch.sigmoid(out_fake.detach().float()).mean(),
                torch.ones((), device=acc.device),
            ])
        return loss_g, loss_d

    def _abandon_if_stopped(self, undo: StepUndo) -> None:
        """Before any weight has moved, a Stop can drop the step (training/step_undo.py)."""
        if self.should_stop():
            undo.abandon(self.opt_d)


def _detached(images):
    """An image batch, or a multi-scale list of them, cut from G's graph."""
    return [x.detach() for x in images] if isinstance(images, (list, tuple)) else images.detach()
