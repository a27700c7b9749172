"""``faceforge encoder train`` (IcGAN encoders for a run) and ``faceforge edit`` (a photo's face, with attributes
set)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from faceforge.cli.interrupts import stop_on_ctrl_c


def cmd_encoder_train(args: argparse.Namespace) -> int:
    from faceforge.editing import LoadedGenerator
    from faceforge.editing import photo_latents
    from faceforge.runs import find_run
    from faceforge.tasks import format_duration
    from faceforge.training import dump_event

    run = find_run(args.run)
    gen = LoadedGenerator.from_run(run)
    if not args.quiet and not args.json:  # an honest estimate before committing, from a few measured steps
        per_step = photo_latents.measure_step_seconds(gen, batch_size=args.batch_size)
        print(f"about {format_duration(per_step * args.steps)} for {args.steps} steps on this machine "
              f"(measured {per_step:.2f} s a step; more if other programs take the CPU)", flush=True)
    should_stop = stop_on_ctrl_c("stopping at the next step")

    def progress(event: dict) -> None:
        if args.json:
            print(dump_event(event), flush=True)
        elif args.quiet:
            return
        elif event["kind"] == "started":
            target = "a W+ encoder" if event.get("target") == "W+" else "E_z"
            print(f"run: {event['run_dir']} (generator step {event['generator_step']}); training {target}; E_y "
                  f"learns from {event['y_source']}", flush=True)
        elif event["kind"] == "stats":
            ly = f"  loss_y {event['loss_y']:.4f}" if event.get("loss_y") is not None else ""
            eta = f"  ETA {format_duration(event['eta'])}" if event.get("eta") is not None else ""
            print(f"step {event['step']:>6}/{event['total_steps']}  loss_z {event['loss_z']:.4f}{ly}  "
                  f"{event['img_s']:.0f} img/s{eta}", flush=True)
        elif event["kind"] == "message":
            print(f"  [{event['level']}] {event['text']}", flush=True)

    result = photo_latents.train(run, steps=args.steps, batch_size=args.batch_size, gen=gen, progress=progress,
                                 should_stop=should_stop)
    if result.path is None:
        print(f"{result.state} at step {result.step}: {result.message}")
        return 1
    print(f"{result.state} at step {result.step}: {result.path}")
    print(f"edit a photo with: faceforge edit PHOTO --run {run.path} --set ATTR=1 --out edited.png")
    return 0


def photo_direction_edit(gen, args: argparse.Namespace, run_dir: Path):
    """(a DirectionEdit for the photo's latent or None, the --set items left for the model's attributes): the
    same --set dir:NAME / --keep / --dir-layers / --directions rules as generate, except that a plain NAME= on a
    model with W takes the fitted direction of that name first (apply.prefers_directions says why)."""
    from faceforge.cli.generate import direction_edits
    from faceforge.directions.apply import DirectionEdit, prefers_directions

    prefer = prefers_directions(gen)
    dirs, moves, keep, plain = direction_edits(gen, args, run_dir, prefer_directions=prefer)
    if not moves:
        return None, plain
    own = {a.lower() for a in gen.attributes}
    for item in args.set or []:
        name = item.split("=", 1)[0].strip()
        if prefer and name.lower() in own and dirs.lookup(name) in moves:
            print(f"  {name}: the fitted direction ({dirs.name}), in spreads; --set attr:{name}=VALUE sets the "
                  "model's own attribute instead", file=sys.stderr)
    return DirectionEdit(directions=dirs, moves=moves, keep=tuple(keep), layers=args.dir_layers), plain


def cmd_edit(args: argparse.Namespace) -> int:
    from faceforge.editing import LoadedGenerator, parse_settings
    from faceforge.editing.align import align_face, crop_box, load_photo, template_for_data
    from faceforge.editing import photo_latents
    from faceforge.editing.edits import save_png
    from faceforge.editing.photo_edits import edit_photo
    from faceforge.runs import find_run

    run = find_run(args.run)
    gen = LoadedGenerator.from_run(run, device=args.device)
    latent_edit, settings = photo_direction_edit(gen, args, run.path)
    settings = parse_settings(settings, gen.attributes)
    encoders = photo_latents.load(run, gen=gen, device=args.device)
    if not encoders.matches(gen):
        print(f"  note: these encoders were trained for generator step {encoders.generator_step}, the model is at "
              f"step {gen.step}; retrain them (faceforge encoder train --run {run.path}) for the best match",
              file=sys.stderr)
    photo = load_photo(Path(args.photo))
    if args.crop is not None:
        aligned = crop_box(photo, args.crop, gen.resolution)
        print(f"cropped {args.crop} and resized to {gen.resolution} px")
    else:
        result = align_face(photo, resolution=gen.resolution, template=template_for_data(gen.config.data),
                            face=args.face)
        aligned = result.aligned
        print(result.message)
    last = [0.0]
    from faceforge.tasks import format_duration

    def progress(event: dict) -> None:
        now = time.monotonic()
        if event["kind"] == "refine" and (now - last[0] > 1.0 or event["step"] == event["total_steps"]):
            last[0] = now
            extra = f"  MS-SSIM {event['ms_ssim']:.3f}" if event.get("ms_ssim") is not None else ""
            eta = f"  ETA {format_duration(event['eta'])}" if event.get("eta") is not None else ""
            print(f"  refining: step {event['step']}/{event['total_steps']}  pixel MSE {event['loss']:.4f}{extra}{eta}",
                  file=sys.stderr, flush=True)

    edit = edit_photo(gen, encoders, aligned, settings, latent_edit=latent_edit, refine_steps=max(0, args.refine),
                      progress=progress)
    if edit.y is not None:  # in each attribute's units, as estimates with E_y's held-out score
        from faceforge.editing.encoder_quality import describe_reliability

        rel = encoders.reliability or {}
        print("read from the photo (estimates): " + ", ".join(
            f"{a} {v:+.2f}".replace("-0.00", "0.00") for a, v in gen.to_units(edit.y).items()))
        for a in gen.attributes:
            print(f"  {a}: {describe_reliability(rel.get(a))}")
    if latent_edit is not None:
        print(f"moved along {latent_edit.directions.name}: " + ", ".join(
            f"{k} {v:+.2f} spreads" for k, v in latent_edit.moves.items())
            + (f" (keeping {', '.join(latent_edit.keep)})" if latent_edit.keep else "")
            + (f" on layers {latent_edit.layers}" if gen.w_space and latent_edit.layers != "all" else ""))
    out = Path(args.out)
    stem = out.with_suffix("")
    edit_recipe, recon_recipe = edit.recipes(gen, run=run.path)
    save_png(out, edit.edited, edit_recipe)
    aligned_path = save_png(stem.with_name(stem.name + "-aligned.png"), aligned)
    recon_path = save_png(stem.with_name(stem.name + "-reconstruction.png"), edit.reconstruction, recon_recipe)
    print(f"wrote {out}, {aligned_path.name}, {recon_path.name} and their recipes")
    return 0
