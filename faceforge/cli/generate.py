"""``faceforge generate``: a grid (PNG) or an animation (GIF, MP4) from a run, a checkpoint file or a recipe, with
the recipe that regenerates it written beside it.

Default faces take their attributes from the label rows the checkpoint kept (``--labels data``: drawn by the seed,
so a grid shows the data's own mix), or all from the data's mean (``--labels mean``); ``--set`` values are in each
column's units (``--set Age=60`` means 60 years)."""
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


def cmd_generate(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image

    from faceforge.editing import LoadedGenerator, parse_settings
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
        settings = parse_settings(args.set, gen.attributes)
        labels = args.labels if gen.conditional else None
        images, z, y = gen.sample(n=args.n, seed=args.seed, settings=settings, truncation=args.truncation,
                                  labels=labels or "mean")
        ncols, scale = args.ncols, 1
        recipe = Recipe(checkpoint=str(Path(gen.source).resolve()), run=str(Path(args.run).resolve()) if args.run else None,
                        seed=args.seed, n=args.n, z=as_lists(z), y=as_lists(y), truncation=args.truncation,
                        edits=settings, labels=labels, ncols=ncols)
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
