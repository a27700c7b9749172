"""IcGAN encoder plumbing on tiny untrained-ish models: training reduces the losses, files save and load (weights
only), stop saves nothing, missing data falls back, and errors say what to do."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from faceforge.checkpoints import CheckpointError
from faceforge.editing import LoadedGenerator
from faceforge.editing.encoders import encode, load_encoders, reconstruct, train_encoders
from faceforge.runs import Run
from faceforge.training import start_run
from helpers import ArrayDataset, tiny_config
from editing_helpers import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def _learnable_dataset(n=96, res=32, seed=0):
    """Images whose attributes are visible: attribute k is +1 when colour channel k is bright."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([-1.0, 1.0], (n, 3)).astype(np.float32)
    base = 128 + 70 * labels[:, None, None, :]
    images = np.clip(base + rng.normal(0, 30, (n, res, res, 3)), 0, 255).astype(np.uint8)
    return ArrayDataset(images=images, labels=labels, attributes=["attr0", "attr1", "attr2"], name="colours")


def _run(tmp_path, *, model="cdcgan", steps=2, data=None):
    data = data if data is not None else _learnable_dataset()
    cfg = tiny_config(steps=steps, model=model)
    cfg.data.source = str(tmp_path / "no-such-folder")  # the data is only what we pass in
    result = start_run(cfg, run_dir=tmp_path / "run", dataset=data if model == "cdcgan" else
                   ArrayDataset(images=data.images, labels=None, attributes=[], name="x"))
    assert result.state == "finished"
    return tmp_path / "run", data


def _lively(gen: LoadedGenerator) -> LoadedGenerator:
    """Two training steps leave DCGAN's N(0, 0.02) weights nearly as they were, and such a generator draws almost
    the same image for every z; PyTorch's default initialisation makes a generator whose output depends on z."""
    torch.manual_seed(0)
    for m in gen.G.modules():
        if isinstance(m, (torch.nn.ConvTranspose2d, torch.nn.Conv2d)):
            m.reset_parameters()
    return gen


def test_training_reduces_both_losses_and_saves_a_loadable_file(tmp_path):
    run, data = _run(tmp_path)
    events = []
    result = train_encoders(run, steps=60, batch_size=16, dataset=data, log_every=10, progress=events.append,
                            gen=_lively(LoadedGenerator.from_run(run)))
    stats = [e for e in events if e["kind"] == "stats"]
    assert [e["step"] for e in stats] == [10, 20, 30, 40, 50, 60]
    assert stats[-1]["loss_z"] < 0.8 * stats[0]["loss_z"]
    assert stats[-1]["loss_y"] < 0.8 * stats[0]["loss_y"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "started" and kinds[-2:] == ["checkpoint", "finished"]
    assert events[0]["y_source"] == "real data"
    assert result.state == "finished" and result.path == Run(run).encoder_files()[-1]
    assert result.path.name == "encoders-00000002.pt"  # named after the generator step it inverts

    enc = load_encoders(run)
    gen = LoadedGenerator.from_run(run)
    assert enc.matches(gen) and enc.attributes == gen.attributes
    assert not any(p.requires_grad for p in enc.E_z.parameters()) and not enc.E_z.training
    z, y = encode(gen, enc, data.images[0])
    assert z.shape == (1, gen.z_dim) and y.shape == (1, 3) and float(y.abs().max()) <= 1.0
    assert reconstruct(gen, enc, data.images[0]).shape == (32, 32, 3)
    # E_y reads the visible attributes of real images after a few dozen steps
    with torch.inference_mode():
        from faceforge.editing.encoders import images_to_tensor

        y_hat = enc.predict_y(images_to_tensor(data.images))
    assert ((y_hat.numpy() > 0) == (data.labels > 0)).mean() > 0.8


def test_stop_saves_nothing(tmp_path):
    run, data = _run(tmp_path)
    polls = []
    events = []
    result = train_encoders(run, steps=1000, batch_size=8, dataset=data, progress=events.append,
                            should_stop=lambda: polls.append(1) or len(polls) > 3)
    assert result.state == "stopped" and result.path is None and result.step == 3
    assert Run(run).encoder_files() == []
    assert events[-1] == {"kind": "finished", "state": "stopped", "step": 3, "message": result.message}


def test_without_the_data_E_y_learns_from_generated_faces(tmp_path):
    run, _ = _run(tmp_path)
    events = []
    result = train_encoders(run, steps=4, batch_size=8, progress=events.append, log_every=2)
    assert result.state == "finished"
    warnings = [e for e in events if e["kind"] == "message" and e["level"] == "warning"]
    assert warnings and "generated faces" in warnings[0]["text"]
    assert events[[e["kind"] for e in events].index("started")]["y_source"] == "generated faces"
    assert load_encoders(run).E_y is not None


def test_unconditional_model_has_only_E_z(tmp_path):
    run, data = _run(tmp_path, model="dcgan")
    train_encoders(run, steps=3, batch_size=8, dataset=data)
    enc = load_encoders(run)
    gen = LoadedGenerator.from_run(run)
    assert enc.E_y is None
    z, y = encode(gen, enc, data.images[1])
    assert z.shape == (1, gen.z_dim) and y is None


def test_missing_encoders_say_how_to_train_them(tmp_path):
    run, _ = _run(tmp_path)
    with pytest.raises(CheckpointError, match="faceforge encoder train --run"):
        load_encoders(run)
    # a generator checkpoint is not an encoder file
    ckpt = Run(run).latest_checkpoint()
    with pytest.raises(CheckpointError, match="not an encoder file"):
        load_encoders(run, path=ckpt)


def test_encode_resizes_squares_and_refuses_other_shapes(tmp_path):
    run, data = _run(tmp_path)
    train_encoders(run, steps=2, batch_size=8, dataset=data)
    gen, enc = LoadedGenerator.from_run(run), load_encoders(run)
    big = np.repeat(np.repeat(data.images[0], 2, axis=0), 2, axis=1)  # 64x64
    assert encode(gen, enc, big)[0].shape == (1, gen.z_dim)
    with pytest.raises(ValueError, match="square"):
        encode(gen, enc, big[:, :40])
    with pytest.raises(ValueError, match="uint8"):
        encode(gen, enc, big.astype(np.float32))


def test_encode_gives_ordinary_tensors_and_refine_runs_under_inference_mode(tmp_path):
    """A GUI worker may render under inference_mode and move a slider by writing into y."""
    run, data = _run(tmp_path)
    train_encoders(run, steps=2, batch_size=8, dataset=data)
    gen, enc = _lively(LoadedGenerator.from_run(run)), load_encoders(run)
    z, y = encode(gen, enc, data.images[0])
    y[0, 1] = 1.0  # in place: would raise for an inference tensor
    from faceforge.editing.encoders import refine

    losses = []
    with torch.inference_mode():
        z2, y2 = refine(gen, data.images[0], z, y, steps=15, progress=lambda e: losses.append(e["loss"]))
    assert z2.shape == z.shape and torch.equal(y2, y) and not z2.requires_grad
    assert losses[-1] < losses[0]


def test_one_file_per_generator_step_and_only_the_newest_kept(tmp_path):
    import dataclasses

    run, data = _run(tmp_path)
    gen = LoadedGenerator.from_run(run)
    for step in (2, 5, 9):
        train_encoders(run, steps=1, batch_size=4, dataset=data, gen=dataclasses.replace(gen, step=step))
    assert [p.name for p in Run(run).encoder_files()] == ["encoders-00000005.pt", "encoders-00000009.pt"]
    assert load_encoders(run).generator_step == 9
    assert load_encoders(run, generator_step=5).generator_step == 5
    assert load_encoders(run, generator_step=2).generator_step == 9  # gone: the newest is the best fallback
