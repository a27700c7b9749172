"""Adding a model is one module and one registry entry: a toy G/D pair defined and registered here, with no other
file changed, is offered by the CLI, trains, resumes bit-identically and samples from its checkpoint."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from faceforge.cli import build_parser
from faceforge.editing.generator import LoadedGenerator
from faceforge.models import Capabilities, ModelSpec, available_models, register
from faceforge.models.registry import unregister
from faceforge.training import resume_run, start_run
from helpers import ToyDiscriminator, assert_same_weights, random_dataset, tiny_config

TOY = "toy"


class ToyGenerator(nn.Module):
    """(z, y) -> an 8x8 image through one linear layer, enlarged to the resolution: no BatchNorm, no transposed
    convolution, no layer named like DCGAN's."""

    def __init__(self, config):
        super().__init__()
        self.n_attributes, self.resolution = config.n_attributes, config.resolution
        self.fc = nn.Linear(config.z_dim + config.n_attributes, 3 * 8 * 8)

    def forward(self, z, y=None):
        if self.n_attributes:
            z = torch.cat([z, y.to(z.dtype)], dim=1)
        x = torch.tanh(self.fc(z)).view(-1, 3, 8, 8)
        return nn.functional.interpolate(x, size=self.resolution, mode="nearest")


@pytest.fixture
def toy():
    register(TOY, ModelSpec(Capabilities("a toy model for the tests", conditioning="optional", resolutions=(32,)),
                            ToyGenerator, ToyDiscriminator))
    try:
        yield TOY
    finally:
        unregister(TOY)
    assert TOY not in available_models()


def test_the_cli_offers_a_registered_model(toy):
    args = build_parser().parse_args(["train", "--model", toy])
    assert args.model == toy


def test_a_registered_model_trains_resumes_bit_identically_and_samples(toy, tmp_path):
    ds = random_dataset()
    cfg = tiny_config(model=toy, steps=6)
    straight = start_run(cfg, run_dir=tmp_path / "a", dataset=ds)
    start_run(tiny_config(model=toy, steps=3), run_dir=tmp_path / "b", dataset=ds)
    resumed = resume_run(tmp_path / "b", steps=6, dataset=ds)
    assert straight.state == resumed.state == "finished" and straight.step == resumed.step == 6
    assert straight.config.model.n_attributes == 3  # "optional" conditioning took the data's attributes
    assert_same_weights(tmp_path / "a", tmp_path / "b")

    gen = LoadedGenerator.from_run(tmp_path / "a")
    assert isinstance(gen.G, ToyGenerator) and gen.attributes == ["attr0", "attr1", "attr2"]
    on, z, _ = gen.sample(n=4, seed=1, settings={"attr0": 1.0})
    off = gen.images(z, gen.make_y(4, {"attr0": -1.0}))
    assert on.shape == (4, 32, 32, 3) and not (on == off).all()


def test_an_optionally_conditional_model_trains_without_attributes(toy, tmp_path):
    result = start_run(tiny_config(model=toy, steps=2, attrs=()), run_dir=tmp_path / "run",
                       dataset=random_dataset(n_attr=0))
    assert result.state == "finished" and result.config.model.n_attributes == 0
    assert LoadedGenerator.from_run(tmp_path / "run").attributes == []


def test_the_new_run_dialog_offers_a_registered_model(toy, qtbot):
    from faceforge.gui.new_run_dialog import NewRunDialog
    from faceforge.gui.tasks import TaskRunner

    runner = TaskRunner()
    dialog = NewRunDialog(runner, train_threads=1)
    qtbot.addWidget(dialog)
    index = dialog.model.findData(toy)
    assert index >= 0 and dialog.model.itemData(index, 3) == "a toy model for the tests"  # ToolTipRole
    dialog.model.setCurrentIndex(index)
    assert dialog.config().model.name == toy
    dialog.reject()
    runner.shutdown()


def test_the_toy_models_share_one_discriminator(toy):
    """One toy D for both toy models (tests/helpers.py), not a copy per model: built by the registry, each is it."""
    from faceforge.models.registry import build_models
    from toy_w_model import toy_w_registered

    with toy_w_registered() as toy_w:
        for name in (toy, toy_w):
            _, d = build_models(tiny_config(model=name).model)
            assert type(d) is ToyDiscriminator
