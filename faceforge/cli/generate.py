"""``faceforge generate``: a grid (PNG) or an animation (GIF, MP4) from a run, a checkpoint file or a recipe, with
the recipe that regenerates it written beside it.

Default faces take their attributes from the label rows the checkpoint kept (``--labels data``: drawn by the seed,
so a grid shows the data's own mix), or all from the data's mean (``--labels mean``); ``--set`` values are in each
column's units (``--set Age=60`` means 60 years).

For a model with a W space, ``--truncation`` lerps w towards the average w (0: the same average face for every
seed; ``--truncation-layers`` limits it to coarse, middle, fine or a range "a-b") and ``--mix SEED:LAYERS`` gives
the named style layers (coarse, middle, fine or a range "a-b") from seed SEED's faces; the recipe keeps the styles
synthesis used, so ``--recipe`` rebuilds the pixels from them."""
from __future__ import annotations

import argparse
from pathlib import Path

ANIMATIONS = (".gif", ".mp4")


def save_animation(images, out: Path, recipe, *, default: dict) -> None:
    """Frames as GIF or MP4, as the recipe says they play (or ``default`` for a grid's recipe), recipe beside."""
    from faceforge.editing.edits import save_gif, save_mp4

    animation = dict(recipe.animation or default)
    if out.suffix.lower() == ".mp4":
        save_mp4(images, out, fps=float(animation.get("fps", 1000.0 / animation.get("frame_ms", 80))),
                 boomerang=bool(animation.get("boomerang", False)), scale=int(animation.get("scale", 1)),
                 recipe=recipe)
    else:
        frame_ms = animation.get("frame_ms") or int(round(1000.0 / float(animation.get("fps", 12.5))))
        save_gif(images, out, frame_ms=int(frame_ms), boomerang=bool(animation.get("boomerang", False)),
                 scale=int(animation.get("scale", 1)), recipe=recipe)


def parse_mix(text: str) -> tuple[int, str]:
    """``--mix 5:coarse`` -> (5, "coarse"); the layers are checked against the model by ``layer_range``."""
    seed, sep, layers = str(text).partition(":")
    try:
        if not sep or not layers.strip():
            raise ValueError
        return int(seed), layers.strip()
    except ValueError:
        raise ValueError(f"--mix takes SEED:LAYERS, e.g. 5:coarse, 5:middle, 5:fine or 5:0-3, not {text!r}") from None


def direction_edits(gen, args: argparse.Namespace, run_dir: Path, *, prefer_directions: bool = False):
    """(the run's directions, {direction: amount} of the --set dir: edits, the --keep names, the --set items left
    for the model's own attributes). The directions are read only when an item or option needs them (with
    ``prefer_directions``, a photo of a W model, whenever there is a --set: see apply.prefers_directions)."""
    from faceforge.directions import directions_for_run, split_settings
    from faceforge.directions.sampling import latent_space

    own = {a.lower() for a in gen.attributes}
    wanted = args.directions or args.keep or any(
        prefer_directions or s.split("=", 1)[0].strip().lower() not in own for s in args.set or [])
    dirs = directions_for_run(run_dir, args.directions) if wanted else None
    plain, moves = split_settings(args.set, gen.attributes, dirs, prefer_directions=prefer_directions)
    if not moves:
        if args.keep:
            raise ValueError("--keep holds directions still during a --set dir:NAME=AMOUNT edit; there is none")
        return dirs, moves, [], plain
    if dirs.space != latent_space(gen) or dirs.dim != (gen.G.w_dim if gen.w_space else gen.z_dim):
        raise ValueError(f"directions {dirs.name} were fitted in a {dirs.dim}-d {dirs.space} space, not this "
                         f"model's {latent_space(gen)}")
    if dirs.meta.get("checkpoint_step") not in (None, gen.step):
        print(f"note: directions {dirs.name} were fitted at step {dirs.meta['checkpoint_step']}, the model is at "
              f"step {gen.step}: fit again if the edits look weak")
    keep = [k for k in (args.keep or "").split(",") if k.strip()]
    for name in keep:
        dirs.normal(name)  # an unknown name is refused here, with the file's names
    return dirs, moves, keep, plain


def cmd_generate(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image

    from faceforge.directions import apply_edits
    from faceforge.directions.apply import directions_record
    from faceforge.editing import LoadedGenerator, parse_settings
    from faceforge.editing.generator import seeded_z
    from faceforge.editing.edits import enlarge
    from faceforge.fileio import atomic_open
    from faceforge.recipes import Recipe, as_lists, recipe_path
    from faceforge.imaging import make_grid

    out = Path(args.out)
    if args.recipe:
        recipe = Recipe.load(Path(args.recipe))
        gen = LoadedGenerator.from_checkpoint(Path(recipe.checkpoint), device=args.device)
        z = torch.tensor(recipe.z, dtype=torch.float32)
        y = torch.tensor(recipe.y, dtype=torch.float32) if recipe.y is not None else None
        if recipe.ws is not None:  # the styles as synthesis used them: no mapping, truncation or mixing again
            images = gen.synthesize(torch.tensor(recipe.ws, dtype=torch.float32))
        else:
            images = gen.images(z, y, truncation=recipe.truncation)
        ncols = recipe.ncols
        scale = recipe.scale
    else:
        if args.run:
            from faceforge.runs import find_run

            run = find_run(args.run)
            gen = LoadedGenerator.from_run(run, device=args.device)
        else:
            gen = LoadedGenerator.from_checkpoint(Path(args.checkpoint), device=args.device)
        run_dir = Path(args.run) if args.run else Path(gen.source).resolve().parent.parent
        dirs, moves, keep, plain = direction_edits(gen, args, run_dir)
        settings = parse_settings(plain, gen.attributes)
        labels = args.labels if gen.conditional else None
        z, y = gen.inputs(n=args.n, seed=args.seed, settings=settings, labels=labels or "mean")
        if moves and not gen.w_space:
            z = apply_edits(z, dirs, moves, keep=keep)
        ws, mix = None, None
        if args.mix is not None:
            mix_seed, layers = parse_mix(args.mix)
            mix = {"seed": mix_seed, "layers": layers, "range": list(gen.layer_range(layers))}
        layers = str(getattr(args, "truncation_layers", None) or "all").strip().lower()
        truncation_layers = None
        if gen.w_space:
            z2 = seeded_z(mix["seed"], args.n, gen.z_dim) if mix else None
            truncation_layers = {"layers": layers, "range": list(gen.truncation_range(layers))}
            ws = gen.styles(z, y, truncation=args.truncation, mix=(z2, mix["layers"]) if mix else None,
                            truncation_layers=layers)
            if moves:
                ws = apply_edits(ws, dirs, moves, keep=keep, layers=args.dir_layers)
            images = gen.synthesize(ws)
        else:
            images = gen.images(z, y, truncation=args.truncation, truncation_layers=layers)
        ncols, scale = args.ncols, 1
        recipe = Recipe(checkpoint=str(Path(gen.source).resolve()), run=str(Path(args.run).resolve()) if args.run else None,
                        seed=args.seed, n=args.n, z=as_lists(z), y=as_lists(y), truncation=args.truncation,
                        edits={**settings, **{f"dir:{k}": v for k, v in moves.items()}}, labels=labels, ncols=ncols, ws=as_lists(ws), mix=mix,
                        truncation_layers=truncation_layers,
                        directions=directions_record([dirs], keep=keep, layers=args.dir_layers if gen.w_space
                                                     else "all") if moves else None)
        if labels == "data" and not gen.has_label_sample:
            print("note: this checkpoint keeps no label sample (an older run): every face has the mean label")
    if out.suffix.lower() in ANIMATIONS:  # an animation: frames play as the recipe says (or plainly for a grid's)
        save_animation(images, out, recipe, default={"boomerang": False})
    else:
        grid = make_grid(images, ncols=ncols) if len(images) > 1 else images[0]
        with atomic_open(out, "wb") as fh:
            Image.fromarray(enlarge(grid, scale)).save(fh, format="PNG")
        recipe.save(recipe_path(out))
    print(f"wrote {out} ({len(images)} faces at {gen.resolution} px, step {gen.step}) and {recipe_path(out).name}")
    return 0
