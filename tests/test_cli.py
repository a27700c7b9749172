"""The CLI end to end, in-process (same code path as the console script), on the built-in faces."""
import argparse
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceforge.cli import build_parser, main
from faceforge.runs import list_runs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    rc = main(["train", "--data", "builtin:faces", "--builtin-count", "200", "--channels", "8", "--batch-size", "8",
               "--steps", "6", "--checkpoint-every", "3", "--sample-every", "3", "--log-every", "3",
               "--metrics-every", "0", "--precision", "fp32", "--out", str(out), "--quiet"])
    assert rc == 0
    (run,) = list_runs(out)
    return run


def test_train_writes_a_complete_run(trained_run):
    cfg = json.loads(trained_run.config_path.read_text())
    assert cfg["model"]["name"] == "cdcgan" and cfg["model"]["n_attributes"] == 8
    assert trained_run.name.startswith("00000-builtin-faces-cdcgan32")
    assert len(trained_run.samples()) == 3


def test_resume_extends_a_run(trained_run, tmp_path):
    import shutil

    copy = tmp_path / trained_run.name
    shutil.copytree(trained_run.path, copy)
    assert main(["train", "--resume", str(copy), "--steps", "9", "--quiet"]) == 0
    from faceforge.runs import Run

    assert Run(copy).status()["step"] == 9


def test_generate_with_settings_and_recipe_regenerates_identical_pixels(trained_run, tmp_path, capsys):
    out = tmp_path / "smiling.png"
    assert main(["generate", "--run", str(trained_run.path), "--n", "4", "--seed", "7", "--set", "smile=1",
                 "--out", str(out)]) == 0
    recipe = json.loads((tmp_path / "smiling.recipe.json").read_text())
    assert recipe["edits"] == {"smile": 1.0} and recipe["seed"] == 7 and len(recipe["z"]) == 4
    again = tmp_path / "again.png"
    assert main(["generate", "--recipe", str(tmp_path / "smiling.recipe.json"), "--out", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))


def test_a_gif_recipe_rebuilds_the_same_animation(trained_run, tmp_path):
    from faceforge.editing import LoadedGenerator
    from faceforge.editing.edits import interpolate, save_gif

    gen = LoadedGenerator.from_run(trained_run)
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(2, gen.z_dim, generator=g)
    strip = interpolate(gen, (z0, gen.make_y(1)[0]), (z1, gen.make_y(1)[0]), steps=4)
    first = save_gif(strip.images, tmp_path / "morph.gif", frame_ms=120, scale=3, recipe=strip.recipe(gen))
    assert json.loads((tmp_path / "morph.recipe.json").read_text())["animation"] == {
        "frame_ms": 120, "boomerang": True, "scale": 3}
    again = tmp_path / "again.gif"
    assert main(["generate", "--recipe", str(tmp_path / "morph.recipe.json"), "--out", str(again)]) == 0
    assert first.read_bytes() == again.read_bytes()


def test_generate_from_a_lone_checkpoint(trained_run, tmp_path):
    ckpt = trained_run.latest_checkpoint()
    lone = tmp_path / "model.pt"
    lone.write_bytes(ckpt.read_bytes())
    assert main(["generate", "--checkpoint", str(lone), "--n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 32 * 3


def test_unknown_attribute_is_a_clear_error(trained_run, tmp_path, capsys):
    assert main(["generate", "--run", str(trained_run.path), "--set", "Smiling=1", "--out", str(tmp_path / "x.png")]) == 2
    assert "smile" in capsys.readouterr().err


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/.faceforge-should-not-exist",))


def test_a_code_carrying_checkpoint_is_refused_and_does_not_run(tmp_path, capsys):
    import os

    marker = "/tmp/.faceforge-should-not-exist"
    if os.path.exists(marker):
        os.remove(marker)
    evil = tmp_path / "evil.pt"
    import torch

    torch.save({"format": "faceforge-checkpoint", "x": _RunsCode()}, evil)
    assert main(["generate", "--checkpoint", str(evil), "--out", str(tmp_path / "x.png")]) == 2
    assert "refused" in capsys.readouterr().err
    assert not os.path.exists(marker)
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps(_RunsCode()))
    assert main(["generate", "--checkpoint", str(tmp_path / "legacy.pt"), "--out", str(tmp_path / "x.png")]) == 2
    assert not os.path.exists(marker)
    assert not (tmp_path / "x.png").exists()


def test_dataset_check_reports_bad_files(tmp_path, capsys):
    """Each bad file is named with its reason, and the counts add up: 6 found, 3 usable, 3 left out."""
    import io

    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    noise = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(noise, format="PNG")
    (folder / "cut.png").write_bytes(noise.getvalue()[:300])  # a download that stopped half-way
    (folder / "empty.png").write_bytes(b"")
    bad = {"broken.jpg": "not an image", "cut.png": "truncated", "empty.png": "empty file"}
    assert main(["dataset", "check", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{folder}: 6 images found, 3 usable, 3 left out"
    assert "  3 unusable files: 1 not an image, 1 truncated, 1 empty file" in lines
    for name, reason in bad.items():
        assert f"    {name}: {reason}" in lines
    assert main(["dataset", "check", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["n_found"], report["n_ok"]) == (6, 3)
    assert dict(report["bad"]) == bad


def test_missing_data_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_runs_shows_the_live_step_speed_and_quality_score(tmp_path, capsys):
    """A run's status.json is written at the start (step 0) and at checkpoints; the list shows where it is now."""
    from faceforge.config import TrainConfig
    from faceforge.runs import Run

    run = Run(tmp_path / "00000-faces-cdcgan32")
    run.write_config(TrainConfig())
    run.write_status("running", step=0, total_steps=1020)
    for step in range(20, 481, 20):
        run.append_stats({"step": step, "images": 64 * step, "loss_g": 1.0, "img_s": 100.0 + step})
        if step % 200 == 0:
            run.append_stats({"step": step, "images": 64 * step, "swd": 31.25, "diversity": 0.3})
    assert main(["runs", str(tmp_path)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("00000-faces-cdcgan32") and "running" in line
    assert "step 480/1020" in line and "580 img/s" in line and "SWD 31.2" in line


def _commands(parser, words=()):
    """(command words, parser) for every command and sub-command, from the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name), sub
                yield from _commands(sub, (*words, name))


def _help_entries(text: str) -> dict[str, str]:
    """``--help`` output -> {first option string or positional name: its whole entry, whitespace normalised}."""
    entries, key = {}, None
    for line in text.split("\n\n", 1)[1].splitlines():  # past the usage paragraph
        m = re.match(r"^  (-?-?[\w-]+)", line)
        if m:
            key = m.group(1)
            entries[key] = line
        elif key and line.startswith("    "):
            entries[key] += " " + line.strip()
        else:
            key = None
    return {k: " ".join(v.split()) for k, v in entries.items()}


def _help_of(words, capsys) -> dict[str, str]:
    with pytest.raises(SystemExit):
        main([*words, "--help"])
    return _help_entries(capsys.readouterr().out)


def _readme_table(words) -> str | None:
    """The option table under the README's heading for this command, if it has one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^### `faceforge {' '.join(words)}`\n((?:\|.*\n)+)", readme, re.M)
    return m.group(1) if m else None


def test_help_documents_every_option(capsys):
    """Every option of every command is listed with a help text in ``--help``, and in the README's option table
    for the commands that have one."""
    commands = list(_commands(build_parser()))
    assert {" ".join(w) for w, _ in commands} >= {"train", "generate", "dataset check", "runs", "encoder train",
                                                   "edit", "gui"}
    checked_tables = 0
    for words, sub in commands:
        entries = _help_of(words, capsys)
        table = _readme_table(words)
        checked_tables += table is not None
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            key = action.option_strings[0] if action.option_strings else action.dest
            assert key in entries, f"faceforge {' '.join(words)} --help does not list {key}"
            assert action.help and " ".join(action.help.split()) in entries[key], f"{key} has no help shown"
            for opt in action.option_strings:
                if table is not None and opt not in ("-h", "--help"):
                    assert re.search(rf"`{re.escape(opt)}\b(?!-)", table), f"README's {words} table lacks {opt}"
    assert checked_tables >= 1


def _bracket_value(text: str) -> str:
    """ "[default: builtin:faces]" -> "builtin:faces"; "[1; 5 is usual]" -> "1"; "[auto: cuda > mps]" -> "auto" """
    inner = text.removeprefix("default: ")
    return re.split(r"[\s;]", inner, maxsplit=1)[0].rstrip(":,")


def _same(shown: str, real) -> bool:
    try:
        return float(shown) == float(real)
    except (TypeError, ValueError):
        return shown == str(real)


def test_each_default_is_shown_once_and_is_the_real_one(capsys):
    """No option shows two defaults ("[64] (default: None)"); a shown "(default: X)" is the parser's default, and a
    train option's "[X]" is what a new run gets without it."""
    from faceforge.cli.train import _config_from_args

    cfg = _config_from_args(build_parser().parse_args(["train"]))
    train_defaults = {
        "data": cfg.data.source, "attributes": "all" if cfg.data.attributes == ["*"] else cfg.data.attributes,
        "builtin_count": cfg.data.builtin_count, "model": cfg.model.name, "resolution": cfg.model.resolution,
        "channels": cfg.model.g_channels, "z_dim": cfg.model.z_dim, "loss": cfg.loss.kind,
        "n_critic": cfg.loss.n_critic, "steps": cfg.schedule.steps, "batch_size": cfg.schedule.batch_size,
        "lr_g": cfg.optim.lr_g, "lr_d": cfg.optim.lr_d, "seed": cfg.seed, "device": cfg.perf.device,
        "precision": cfg.perf.precision, "log_every": cfg.schedule.log_every,
        "sample_every": cfg.schedule.sample_every, "checkpoint_every": cfg.schedule.checkpoint_every,
        "metrics_every": cfg.schedule.metrics_every, "threads": cfg.perf.threads,
        "conditioning": cfg.model.conditioning,
    }
    described = {"out", "ncols"}  # defaults in words: "[user documents]", "[square]"
    shown_brackets = set()
    for words, sub in _commands(build_parser()):
        entries = _help_of(words, capsys)
        for action in sub._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            entry = entries[action.option_strings[0]]
            parens = re.findall(r"\(default: ([^)]*)\)", entry)
            brackets = re.findall(r"\[([^\]]*)\]", entry)
            assert len(parens) + len(brackets) <= 1, f"two defaults: {entry}"
            if parens:
                assert parens[0] == str(action.default), entry
            if brackets:
                assert action.default is None, f"{entry}: a [default] in words, and a parser default too"
                shown_brackets.add(action.dest)
                if action.dest not in described:
                    assert words == ("train",) and action.dest in train_defaults, entry
                    assert _same(_bracket_value(brackets[0]), train_defaults[action.dest]), entry
    assert {"steps", "batch_size", "lr_g", "data", "ncols"} <= shown_brackets


def test_classifier_train_saves_a_classifier_with_held_out_results(trained_run, capsys):
    from faceforge.models.classifier import classifier_dir, load_classifier

    capsys.readouterr()
    assert main(["classifier", "train", "--run", str(trained_run.path), "--epochs", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "held-out results" in out and "glasses" in out and "accuracy" in out
    weights = next(classifier_dir(trained_run.path).glob("*.pt"))
    clf = load_classifier(weights)
    assert clf.resolution == 32 and "glasses" in clf.names
    assert "attribute classifier trained" in (trained_run.path / "events.log").read_text()


def test_train_loss_brings_its_measured_settings_and_options_beside_it_win():
    """`--model progan --loss wgan-gp` is the paper's ProGAN (lr 0.003, one D step, drift); --lr-g still wins."""
    from faceforge.cli.train import _config_from_args

    cfg = _config_from_args(build_parser().parse_args(["train", "--model", "progan", "--loss", "wgan-gp"]))
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.loss.n_critic, cfg.loss.drift) == ("wgan-gp", 0.003, 1, 0.001)
    cfg = _config_from_args(build_parser().parse_args(["train", "--model", "progan", "--loss", "wgan-gp",
                                                       "--lr-g", "0.001", "--n-critic", "2"]))
    assert (cfg.optim.lr_g, cfg.optim.lr_d, cfg.loss.n_critic) == (0.001, 0.003, 2)
    cfg = _config_from_args(build_parser().parse_args(["train", "--model", "progan"]))
    assert (cfg.loss.kind, cfg.optim.lr_g, cfg.loss.drift) == ("rahinge", 0.006, 0.0)
