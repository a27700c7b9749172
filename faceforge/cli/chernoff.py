"""``faceforge chernoff TABLE.csv --run R --out faces.png|.svg|.pdf``: one face per row of a table, drawn by the
run's own generator (faceforge/chernoff), with a legend, and a recipe beside the figure that rebuilds it
(``faceforge chernoff --recipe faces.recipe.json --out again.pdf``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from faceforge.cli.interrupts import stop_on_ctrl_c


def cmd_chernoff(args: argparse.Namespace) -> int:
    from faceforge.chernoff import ChernoffRecipe, FaceOptions, build, export
    from faceforge.chernoff.make import load_for_run
    from faceforge.runs import find_run

    if args.recipe:
        recipe = ChernoffRecipe.load(Path(args.recipe))
        if args.table:
            recipe.table = str(Path(args.table).resolve())
        if args.run:
            recipe.run = str(find_run(args.run).path)
    else:
        if not args.table or not args.run:
            raise ValueError("give a TABLE and --run R (or --recipe FILE)")
        sort, descending = (args.sort or "").strip(), bool(args.descending)
        recipe = ChernoffRecipe(table=str(Path(args.table).resolve()), run=str(find_run(args.run).path),
                                mapping={}, auto=args.auto, label=args.label, sort=sort or None, descending=descending,
                                limit=args.limit, options=FaceOptions(base=args.base, spread=args.spread,
                                                                      own_identity=args.own_identity))
        recipe.options.base_seed()  # refuse a bad --base before loading anything
    if not Path(recipe.table).is_file():
        raise FileNotFoundError(f"no table {recipe.table}")
    if args.recipe and recipe.table_sha256:
        from faceforge.fileio import file_sha256

        if file_sha256(Path(recipe.table)) != recipe.table_sha256:
            print(f"  note: {Path(recipe.table).name} changed since the recipe was written; drawing it as it is now")
    loaded = load_for_run(Path(recipe.run), checkpoint=recipe.checkpoint if args.recipe else None, device=args.device)
    if args.map:
        from faceforge.chernoff import parse_mapping, read_table
        from faceforge.chernoff.make import require_features

        require_features(loaded[1], recipe.run)
        table = read_table(recipe.table, label=recipe.label)
        recipe.mapping = parse_mapping(args.map, table, loaded[1])
    should_stop = stop_on_ctrl_c("stopping")
    built = build(recipe, loaded=loaded, should_stop=should_stop)
    for note in built.table.notes:
        print(f"  note: {note}")
    if not built.mapping:
        print("  note: no column is drawn (every numeric column is the same in all rows shown, or --map named "
              "none): every face is the base face")
    width = max(len(c) for c in built.mapping) if built.mapping else 0
    for column, key in built.mapping.items():
        feature = next(f for f in built.features if f.key == key)
        warn = f"  WARNING: {feature.warning}" if feature.warning else ""
        print(f"  {column:{width}s} -> {key} ({feature.about}){warn}")
    out, recipe_file = export(built, Path(args.out))
    n = len(built.mapping)
    print(f"wrote {out} ({len(built.table)} faces, {n} mapped column{'s' * (n != 1)}) and {recipe_file.name}")
    return 0


DEFAULT_LIMIT, DEFAULT_SPREAD = 6, 2.5  # as faceforge.chernoff's (not imported here: --help must not load torch)


def add_parser(sub) -> None:
    from faceforge.cli import _HelpFormatter

    c = sub.add_parser("chernoff", help="data faces: one face per row of a CSV/TSV table, drawn by a run's generator "
                       "(its conditional attributes and fitted directions), with a legend",
                       formatter_class=_HelpFormatter)
    c.add_argument("table", nargs="?", help="a CSV or TSV file with a header line (the recipe's table with --recipe)")
    c.add_argument("--run", help="the run folder whose latest generator draws the faces")
    c.add_argument("--out", required=True, help="the figure: .png, .svg or .pdf (captions are text in SVG and PDF); "
                   "NAME.recipe.json is written beside it")
    c.add_argument("--map", action="append", metavar="COL=FEATURE", help="draw column COL with FEATURE (a conditional "
                   "attribute or a fitted direction; dir:NAME for a direction named like an attribute); repeatable; "
                   "features left over are filled by --auto when it is given")
    c.add_argument("--auto", metavar="variance|corr:COL", help="rank the columns by variance or by |correlation| with "
                   "COL and give the top one the feature read best (smile, then eyes and brows, age, pose); "
                   "variance when no --map is given")
    c.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="most columns mapped automatically")
    c.add_argument("--label", metavar="COL", help="the column captioning each face; guessed when not given (an "
                   "unnamed first column, else the first text column naming each row once)")
    c.add_argument("--base", default="average", help="the one face every row starts from: average or seed:N")
    c.add_argument("--own-identity", action="store_true", help="each row its own face (seeded by its row number) "
                   "instead of one shared identity")
    c.add_argument("--spread", type=float, default=DEFAULT_SPREAD, help="the largest and smallest values move this "
                   "many spreads from each direction's boundary")
    c.add_argument("--sort", metavar="COL", help="order the faces by COL, smallest first; the file's order when not "
                   "given")
    c.add_argument("--descending", action="store_true", help="with --sort: largest first")
    c.add_argument("--recipe", help="rebuild the figure from a NAME.recipe.json (TABLE and --run override its paths)")
    c.add_argument("--device", default="cpu", help="cpu, cuda or mps")
