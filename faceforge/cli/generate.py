"""``faceforge generate``: a grid (PNG) or an animation (GIF) from a run, a checkpoint file or a recipe, with the
recipe that regenerates it written beside it."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_generate(args: argparse.Namespace) -> int:
    import torch
    from PIL import Image

    from faceforge.editing import LoadedGenerator, parse_settings
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
    else:
        if args.run:
            from faceforge.runs import find_run

            run = find_run(args.run)
            gen = LoadedGenerator.from_run(run, device=args.device)
        else:
            gen = LoadedGenerator.from_checkpoint(Path(args.checkpoint), device=args.device)
        settings = parse_settings(args.set, gen.attributes)
        images, z, y = gen.sample(n=args.n, seed=args.seed, settings=settings, truncation=args.truncation)
        ncols = args.ncols
        recipe = Recipe(checkpoint=str(Path(gen.source).resolve()), run=str(Path(args.run).resolve()) if args.run else None,
                        seed=args.seed, n=args.n, z=as_lists(z), y=as_lists(y), truncation=args.truncation,
                        edits=settings, ncols=ncols)
    if out.suffix.lower() == ".gif":  # an animation: frames play as the recipe says (or plainly, if it is a grid's)
        from faceforge.editing.edits import save_gif

        save_gif(images, out, **(recipe.animation or {"boomerang": False}), recipe=recipe)
    else:
        grid = make_grid(images, ncols=ncols) if len(images) > 1 else images[0]
        with atomic_open(out, "wb") as fh:
            Image.fromarray(grid).save(fh, format="PNG")
        recipe.save(recipe_path(out))
    print(f"wrote {out} ({len(images)} faces at {gen.resolution} px, step {gen.step}) and {recipe_path(out).name}")
    return 0
