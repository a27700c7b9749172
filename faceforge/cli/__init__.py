"""Headless commands over the same core the GUI uses: ``faceforge train | generate | dataset check | runs |
encoder train | edit | directions | chernoff | gui``.

Running ``faceforge`` with no command opens the desktop app. The parser is here; each command is a module of this
package (train, generate, dataset, runs, edit), imported only when it runs, so ``--help`` stays quick.
"""
from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  faceforge                                    open the desktop app
  faceforge train --data builtin:faces --model cdcgan --resolution 32 --steps 2000 --out runs/
  faceforge train --data ~/celeba/img_align_celeba --labels ~/celeba/list_attr_celeba.txt \\
                  --attributes Smiling,Male,Eyeglasses --resolution 64 --steps 20000 --out runs/
  faceforge train --resume runs/00003-celeba-10k-cdcgan64
  faceforge generate --run runs/00003-celeba-10k-cdcgan64 --n 16 --seed 7 --set Smiling=1 --out smiling.png
  faceforge generate --recipe smiling.recipe.json --out again.png
  faceforge dataset check ~/faces --labels ~/faces/labels.csv
  faceforge encoder train --run runs/00003-celeba-10k-cdcgan64          # IcGAN encoders for photo editing
  faceforge edit photo.jpg --run runs/00003-celeba-10k-cdcgan64 --set Smiling=1 --out edited.png
  faceforge directions fit --run runs/00004-celeba-10k-dcgan64 --attributes Smiling,Male
  faceforge generate --run runs/00004-celeba-10k-dcgan64 --set dir:Smiling=1.5 --keep Male --out smiling.png
  faceforge chernoff judges.csv --run runs/00003-celeba-10k-cdcgan64 --auto corr:RTEN --out judges.pdf
"""


def _crop(text: str) -> tuple[int, int, int, int]:
    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("crop must be LEFT,TOP,RIGHT,BOTTOM in pixels, e.g. 25,50,153,178") from None
    if len(box) != 4 or box[2] <= box[0] or box[3] <= box[1]:
        raise argparse.ArgumentTypeError("crop must be LEFT,TOP,RIGHT,BOTTOM with RIGHT>LEFT and BOTTOM>TOP")
    return box  # type: ignore[return-value]


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" only where the parser holds a real default. An option left None is decided later (by
    the config or the run) and states its default in its own help, in [brackets]; a flag or a list has none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from faceforge import __version__

    p = argparse.ArgumentParser(prog="faceforge", description="Train face GANs and edit faces, locally.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"faceforge {__version__}")
    p.add_argument("--self-test", action="store_true",
                   help="check this install: open the window offscreen, train a few steps on the built-in faces, "
                        "sample, edit a face, write and reload a checkpoint; exit 0 when all passed")
    p.add_argument("--self-test-out", metavar="DIR",
                   help="keep what --self-test writes (its run, the window's screenshot) in DIR")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gui", help="open the desktop app (the default when no command is given)")
    g.add_argument("path", nargs="?", help="a dataset folder/zip or a run folder to open")

    t = sub.add_parser("train", help="train a GAN (new run, or --resume an existing one)",
                       formatter_class=_HelpFormatter)
    t.add_argument("--resume", metavar="RUN", help="continue this run folder exactly where it stopped")
    t.add_argument("--config", metavar="JSON", help="start from this config.json (options below override it)")
    t.add_argument("--data", default=None, help="builtin:faces, a folder of images (recursive) or a .zip "
                   "[default: builtin:faces]")
    t.add_argument("--labels", help="attribute labels: CelebA list_attr_celeba.txt or a CSV filename,attr1,...")
    t.add_argument("--attributes", help="comma-separated attributes to condition on, or * for all "
                   "[default: all for builtin:faces, none otherwise]")
    t.add_argument("--crop", type=_crop, help="crop box LEFT,TOP,RIGHT,BOTTOM applied before resizing")
    t.add_argument("--builtin-count", type=int, help="number of built-in faces to render [10000]")
    from faceforge.models import available_models
    from faceforge.config import CONDITIONINGS

    models = available_models()
    t.add_argument("--model", choices=sorted(models), metavar="MODEL",
                   help="; ".join(f"{name}: {text}" for name, text in models.items())
                   + " [cdcgan when attributes are given, else dcgan]")
    t.add_argument("--conditioning", choices=CONDITIONINGS,
                   help="where a conditional model's attributes enter: input (y beside z in G, as maps at D's first "
                        "layer), projection (Miyato & Koyama's projection discriminator), acgan (D also predicts y), "
                        "cbn (conditional BatchNorm in G, projection D) [input]")
    t.add_argument("--resolution", type=int, choices=(32, 64, 128), help="image size in pixels [32]")
    t.add_argument("--channels", type=int, help="network width (DCGAN's ngf/ndf) [32 at 32 px, else 64]")
    t.add_argument("--z-dim", type=int, help="latent size [100]")
    from faceforge.config import LOSS_KINDS

    from faceforge.models import capabilities

    own = {name: capabilities(name).defaults for name in models}
    t.add_argument("--loss", choices=LOSS_KINDS, help="GAN objective: bce (non-saturating), wgan-gp, hinge, rahinge "
                   "(relativistic average hinge); each model has its own default ("
                   + ", ".join(f"{name} {d.loss}" for name, d in own.items()) + ") [bce]")
    t.add_argument("--n-critic", type=int, help="D steps per G step [1; 5 is usual for wgan-gp]")
    t.add_argument("--steps", type=int, help="total generator steps [2000]; with --resume, the new total")
    t.add_argument("--batch-size", type=int, help="images per step [64]")
    t.add_argument("--lr-g", type=float, help="generator learning rate; each model has its own ("
                   + ", ".join(f"{name} {d.lr_g:g}" for name, d in own.items()) + ") [2e-4]")
    t.add_argument("--lr-d", type=float, help="discriminator learning rate; each model has its own ("
                   + ", ".join(f"{name} {d.lr_d:g}" for name, d in own.items()) + ") [2e-4]")
    t.add_argument("--seed", type=int, help="random seed [0]")
    t.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train [auto: cuda > mps > cpu]")
    t.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                   help="auto measures this machine and picks the fastest safe one [auto]")
    t.add_argument("--threads", type=int, help="CPU threads for training, at most (0 = every core) [0]")
    t.add_argument("--fixed-threads", action="store_true",
                   help="keep the thread count even while other programs use the CPU (bit-exact reproducibility "
                        "on a busy machine; by default training uses the cores that are free)")
    t.add_argument("--label-kind", action="append", metavar="ATTR=KIND",
                   help="treat a label column as binary or continuous, overriding the rule (at most two distinct "
                        "values = binary), e.g. --label-kind Age=continuous (repeatable)")
    t.add_argument("--log-every", type=int, help="steps between stats.jsonl rows [20]")
    t.add_argument("--sample-every", type=int, help="steps between fixed-noise sample grids [200]")
    t.add_argument("--checkpoint-every", type=int, help="steps between checkpoints [500]")
    t.add_argument("--metrics-every", type=int, help="steps between quality scores (0 = off) [500]")
    t.add_argument("--name", help="a short name added to the run folder's name")
    t.add_argument("--out", default=None, help="folder that holds the numbered run folders [user documents]")
    t.add_argument("--dry-run", action="store_true",
                   help="measure a few steps on the device the run would use and print the time and memory it "
                        "would take; writes nothing")
    t.add_argument("--quiet", action="store_true", help="print only the result")
    t.add_argument("--json", action="store_true", help="print progress events as JSON lines")

    gen = sub.add_parser("generate", help="generate a grid of faces from a run or a checkpoint file",
                         formatter_class=_HelpFormatter)
    src = gen.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="a run folder (its latest checkpoint is used)")
    src.add_argument("--checkpoint", help="a FaceForge checkpoint file on its own")
    src.add_argument("--recipe", help="regenerate an image exactly from its NAME.recipe.json")
    gen.add_argument("--n", type=int, default=16, help="number of faces")
    gen.add_argument("--seed", type=int, default=0, help="noise seed")
    gen.add_argument("--set", action="append", default=[], metavar="ATTR=VALUE",
                     help="set an attribute for all faces in its own units, e.g. --set Smiling=1 or --set Age=60 "
                          "(repeatable; binary attributes -1..+1, -2..2 works); --set dir:Smiling=1.5 moves along "
                          "the fitted direction by 1.5 spreads (-3..3; faceforge directions fit), which a name the "
                          "model has no attribute for also means; --set attr:NAME= is always the attribute")
    gen.add_argument("--labels", choices=("data", "mean"), default="data",
                     help="attributes of the faces not set: rows drawn (by the seed) from the training labels the "
                          "checkpoint kept, or the data's mean label for every face")
    gen.add_argument("--truncation", type=float, default=1.0,
                     help="towards the average face (0..1: more typical): a W model lerps w towards its mean w "
                          "(0 = one face for every seed), other models scale z")
    gen.add_argument("--truncation-layers", metavar="LAYERS", default="all",
                     help="the style layers --truncation applies to (W models): all, coarse, middle, fine or a "
                          "range such as 0-3")
    gen.add_argument("--mix", metavar="SEED:LAYERS",
                     help="style mixing (W models): these style layers come from seed SEED's faces (same "
                          "attributes): coarse, middle, fine or a range such as 0-3, e.g. --mix 5:coarse")
    gen.add_argument("--directions", metavar="NAME", help="the fitted directions --set dir:NAME=AMOUNT uses: a NAME in "
                     "RUN/directions/ or a .json path; the run's newest when not given")
    gen.add_argument("--keep", metavar="A,B", help="directions to hold still: each --set dir: edit is first made "
                     "orthogonal to them (change Smiling but keep Male)")
    gen.add_argument("--dir-layers", metavar="LAYERS", default="all",
                     help="the style layers a direction edit moves (W models): all, relevant (each direction's own "
                          "layers, from directions fit --relevance), coarse, middle, fine or a range such as 0-3")
    gen.add_argument("--ncols", type=int, help="grid columns [square]")
    gen.add_argument("--out", required=True, help="output PNG, or GIF or MP4 to animate the faces (a NAME.recipe.json "
                     "is written beside it)")
    gen.add_argument("--device", default="cpu", help="cpu, cuda or mps")

    ds = sub.add_parser("dataset", help="dataset tools")
    dsub = ds.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    chk = dsub.add_parser("check", help="count images, sizes, bad files and label coverage")
    chk.add_argument("path", help="folder, .zip or builtin:faces")
    chk.add_argument("--labels", help="CelebA list_attr_celeba.txt or a CSV")
    chk.add_argument("--json", action="store_true", help="print the report as JSON")

    runs = sub.add_parser("runs", help="list the runs in a folder")
    runs.add_argument("folder", nargs="?", help="folder of runs [user documents]")

    enc = sub.add_parser("encoder", help="IcGAN encoders (photo -> z, y; a W+ encoder for a model with W) for editing "
                         "photos with a run's model")
    esub = enc.add_subparsers(dest="encoder_command", metavar="ACTION", required=True)
    etr = esub.add_parser("train", help="train E_z (on generated faces) and E_y (on the run's labelled data); for a model with "
                          "W a W+ encoder on generated faces",
                          formatter_class=_HelpFormatter)
    etr.add_argument("--run", required=True, help="the run folder whose latest generator the encoders invert")
    etr.add_argument("--steps", type=int, default=2000, help="training steps (one batch for each encoder per step)")
    etr.add_argument("--batch-size", type=int, default=64, help="images per step")
    etr.add_argument("--quiet", action="store_true", help="print only the result")
    etr.add_argument("--json", action="store_true", help="print progress events as JSON lines")

    ed = sub.add_parser("edit", help="edit the face in a photo: align, encode, set attributes, decode",
                        formatter_class=_HelpFormatter)
    ed.add_argument("photo", help="a photo with one face (jpg/png/...)")
    ed.add_argument("--run", required=True, help="a run folder with trained encoders (faceforge encoder train)")
    ed.add_argument("--set", action="append", default=[], metavar="ATTR=VALUE",
                    help="set an attribute in its own units, e.g. --set Smiling=1 or --set Age=60 (repeatable; "
                         "binary: -1 off, +1 on, -2..2 works); --set dir:Smiling=1.5 moves the photo's latent 1.5 "
                         "spreads along the fitted direction (-3..3; faceforge directions fit). On a model with W a "
                         "plain NAME= takes the fitted direction of that name when there is one (--set attr:NAME= "
                         "forces the model's own attribute); otherwise the attribute, as in generate")
    ed.add_argument("--directions", metavar="NAME", help="the fitted directions --set dir:NAME=AMOUNT uses: a NAME in "
                    "RUN/directions/ or a .json path; the run's newest when not given")
    ed.add_argument("--keep", metavar="A,B", help="directions to hold still: each direction edit is first made "
                    "orthogonal to them (change Smiling but keep Male)")
    ed.add_argument("--dir-layers", metavar="LAYERS", default="all",
                    help="the style layers a direction edit moves (W models): all, relevant (each direction's own "
                         "layers, from directions fit --relevance), coarse, middle, fine or a range such as 0-3")
    ed.add_argument("--refine", type=int, default=200, metavar="STEPS",
                    help="latent optimisation steps after the encoder (keeps identity; 0 = encoder only); "
                         "projection in W+ for a model with W")
    ed.add_argument("--crop", type=_crop, help="crop box LEFT,TOP,RIGHT,BOTTOM around the face instead of automatic "
                    "alignment")
    ed.add_argument("--face", type=int, help="which face to use when the photo has several (0 = leftmost)")
    ed.add_argument("--out", required=True, help="output PNG; NAME-aligned.png, NAME-reconstruction.png and "
                    "recipes are written beside it")
    ed.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    cls = sub.add_parser("classifier", help="FaceForge's attribute classifier for a run (measures conditions and edits)")
    csub = cls.add_subparsers(dest="classifier_command", metavar="ACTION", required=True)
    ctr = csub.add_parser("train", help="train it on the run's labelled data (all attributes); saved in the run "
                          "folder with its held-out accuracy per attribute", formatter_class=_HelpFormatter)
    ctr.add_argument("--run", required=True, help="the run folder whose data (and labels) it learns")
    ctr.add_argument("--epochs", type=float, default=3.0, help="passes over the data (a few CPU minutes for "
                     "10,000 faces at 64 px)")
    ctr.add_argument("--json", action="store_true", help="print progress events as JSON lines")

    dr = sub.add_parser("directions", help="attribute directions in any run's latent space (SVM on faces scored by "
                        "the run's attribute classifier), for generate --set dir:NAME=AMOUNT")
    drsub = dr.add_subparsers(dest="directions_command", metavar="ACTION", required=True)
    dfit = drsub.add_parser("fit", help="sample faces, score them with the classifier, fit one direction per "
                            "attribute; saved in RUN/directions/ with its accuracies", formatter_class=_HelpFormatter)
    dfit.add_argument("--run", required=True, help="the run folder whose latest generator is sampled")
    dfit.add_argument("--attributes", help="comma-separated classifier attributes to fit; all of them when not given")
    dfit.add_argument("--samples", type=int, default=4000, help="faces sampled and scored")
    dfit.add_argument("--share", type=float, default=0.05, help="the top and the bottom share by score kept for the "
                      "fit (the classifier is surest there)")
    dfit.add_argument("--relevance", action="store_true", help="models with W: also rank the style layers each "
                      "direction acts through and keep the fewest that give four fifths of its effect (for generate "
                      "--dir-layers relevant)")
    dfit.add_argument("--seed", type=int, help="sampling seed; the run's own seed when not given")
    dfit.add_argument("--classifier", help="an attribute classifier folder or .pt; RUN/classifier when not given")
    dfit.add_argument("--name", help="file name in RUN/directions/; step-NNNNNNNN (the checkpoint's step) when not given")
    dfit.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    dsefa = drsub.add_parser("sefa", help="unsupervised directions by SeFa (eigenvectors of the generator's first "
                             "latent weights; no sampling), saved as RUN/directions/NAME.json with components "
                             "sefa-0, sefa-1, ...", formatter_class=_HelpFormatter)
    dsefa.add_argument("--run", required=True, help="the run folder whose latest generator is read")
    dsefa.add_argument("--components", type=int, default=8, help="how many components to keep")
    dsefa.add_argument("--name", default="sefa", help="file name in RUN/directions/")
    dsefa.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    dgan = drsub.add_parser("ganspace", help="unsupervised directions by GANSpace (principal components of sampled "
                            "w, or for a model without W of an early layer's output mapped back to z), saved as "
                            "RUN/directions/NAME.json with components ganspace-0, ganspace-1, ...",
                            formatter_class=_HelpFormatter)
    dgan.add_argument("--run", required=True, help="the run folder whose latest generator is sampled")
    dgan.add_argument("--components", type=int, default=8, help="how many components to keep")
    dgan.add_argument("--samples", type=int, default=4000, help="latents sampled (only the mapping network or G's "
                      "first layer runs, no faces are rendered)")
    dgan.add_argument("--seed", type=int, help="sampling seed; the run's own seed when not given")
    dgan.add_argument("--name", default="ganspace", help="file name in RUN/directions/")
    dgan.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    dlist = drsub.add_parser("list", help="the run's fitted directions with their accuracies")
    dlist.add_argument("--run", required=True, help="the run folder")
    from faceforge.cli.chernoff import add_parser as add_chernoff

    add_chernoff(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from faceforge.frozen import prepare_process

    prepare_process()  # first: multiprocessing's freeze support, a windowed bundle's missing stdout/stderr
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test or args.self_test_out:
        from pathlib import Path

        from faceforge.cli.selftest import run_self_test

        return run_self_test(out=Path(args.self_test_out) if args.self_test_out else None,
                             print_fn=lambda line: print(line, flush=True))
    if args.command in (None, "gui"):
        from faceforge.gui.app import main as gui_main

        return gui_main(["faceforge"] + ([args.path] if getattr(args, "path", None) else []))
    from faceforge.checkpoints import CheckpointError
    from faceforge.cli import chernoff, classifier, dataset, directions, edit, generate, runs, train
    from faceforge.config import ConfigError

    handlers = {"train": train.cmd_train, "generate": generate.cmd_generate, "runs": runs.cmd_runs,
                "dataset": dataset.cmd_dataset_check, "encoder": edit.cmd_encoder_train, "edit": edit.cmd_edit,
                "classifier": classifier.cmd_classifier_train, "directions": directions.cmd_directions,
                "chernoff": chernoff.cmd_chernoff}
    expected: tuple[type[BaseException], ...] = (CheckpointError, ConfigError, FileNotFoundError, ValueError)
    try:
        from faceforge.data import DatasetError
        from faceforge.tasks import Cancelled

        expected += (DatasetError,)
    except ImportError:
        Cancelled = KeyboardInterrupt  # type: ignore[misc,assignment]
    try:
        return handlers[args.command](args)
    except expected as exc:
        print(f"faceforge: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        print("faceforge: interrupted", file=sys.stderr)
        return 130
