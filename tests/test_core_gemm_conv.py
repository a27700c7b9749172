"""The GEMM form of DCGAN's 4x4 stride-2 convolutions computes what the library kernels compute."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from faceforge.models import build_models
from faceforge.models.gemm_conv import (conv_gemm, conv_transpose_gemm, gemm_capable, set_gemm_layers,
                                        tune_gemm_layers)
from faceforge.runs import Run
from faceforge.training import speed as speed_mod
from faceforge.training import resume_run, start_run
from helpers import assert_same_weights, random_dataset, tiny_config


def _grads(fn, x, w, g):
    x = x.detach().clone().requires_grad_(True)
    w = w.detach().clone().requires_grad_(True)
    out = fn(x, w)
    gx, gw = torch.autograd.grad(out, (x, w), g)
    return out, gx, gw


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("c_in,c_out,size", [(3, 8, 16), (5, 7, 8), (16, 4, 4)])
def test_conv_and_transposed_conv_match_the_library(channels_last, c_in, c_out, size):
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(3, c_in, size, size).contiguous(memory_format=fmt)
    w = torch.randn(c_out, c_in, 4, 4)
    ref = _grads(lambda a, b: F.conv2d(a, b, stride=2, padding=1), x, w, torch.ones(3, c_out, size // 2, size // 2))
    g = torch.randn_like(ref[0])
    ref = _grads(lambda a, b: F.conv2d(a, b, stride=2, padding=1), x, w, g)
    ours = _grads(conv_gemm, x, w, g)
    for a, b in zip(ref, ours):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    assert ours[0].is_contiguous(memory_format=fmt)  # the layout the next layer expects

    xt = torch.randn(3, c_out, size // 2, size // 2).contiguous(memory_format=fmt)
    g = torch.randn(3, c_in, size, size)
    ref = _grads(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1), xt, w, g)
    ours = _grads(conv_transpose_gemm, xt, w, g)
    for a, b in zip(ref, ours):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_only_the_4x4_stride_2_geometry_is_capable():
    assert gemm_capable(nn.Conv2d(3, 8, 4, 2, 1, bias=False))
    assert gemm_capable(nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False))
    assert not gemm_capable(nn.Conv2d(3, 8, 4, 2, 1, bias=True))
    assert not gemm_capable(nn.ConvTranspose2d(100, 64, 4, 1, 0, bias=False))  # G's first layer
    assert not gemm_capable(nn.Conv2d(3, 8, 3, 1, 1, bias=False))
    assert not gemm_capable(nn.Linear(3, 3))


def test_switching_layers_keeps_the_model_and_its_output():
    cfg = tiny_config(res=32, model="dcgan")
    G, D = build_models(cfg.model, loss_kind="bce")
    both = nn.ModuleDict({"G": G, "D": D})
    z = torch.randn(4, cfg.model.z_dim)
    before = D(G(z))
    keys = list(both.state_dict())
    capable = [n for n, m in both.named_modules() if gemm_capable(m)]
    assert len(capable) == 6  # 32 px: 3 up-sampling layers in G (not the first), 3 down-sampling in D
    set_gemm_layers(both, capable)
    assert all(type(m) in (nn.Conv2d, nn.ConvTranspose2d) for n, m in both.named_modules() if n in capable)
    torch.testing.assert_close(D(G(z)), before, rtol=1e-4, atol=1e-5)
    assert list(both.state_dict()) == keys
    set_gemm_layers(both, [])
    assert all("forward" not in m.__dict__ for m in both.modules())


def test_the_tuner_times_every_capable_layer_and_picks_from_them():
    cfg = tiny_config(res=32, model="dcgan")
    G, D = build_models(cfg.model, loss_kind="bce")
    both = nn.ModuleDict({"G": G, "D": D})
    state = {k: v.clone() for k, v in both.state_dict().items()}
    z = torch.randn(8, cfg.model.z_dim)
    rng = torch.get_rng_state()
    chosen, times = tune_gemm_layers(both, lambda: D(G(z)), reps=1)
    assert set(times) == {n for n, m in both.named_modules() if gemm_capable(m)}
    assert set(chosen) <= set(times)
    assert all(a > 0 and b > 0 for a, b in times.values())
    # timing changes nothing a run depends on: weights, BatchNorm statistics, the global RNG, train mode
    assert all(torch.equal(v, both.state_dict()[k]) for k, v in state.items())
    assert torch.equal(rng, torch.get_rng_state())
    assert all(m.training for m in both.modules())


def test_training_with_gemm_layers_resumes_bit_identically_and_records_them(tmp_path):
    ds = random_dataset()
    layers = ["G.main.3", "G.main.9", "D.first", "D.body.1"]

    def cfg(steps):
        c = tiny_config(steps=steps)
        c.perf.gemm_layers = layers
        return c

    start_run(cfg(6), run_dir=tmp_path / "a", dataset=ds)
    start_run(cfg(3), run_dir=tmp_path / "b", dataset=ds)
    resume_run(tmp_path / "b", dataset=ds, steps=6)
    assert_same_weights(tmp_path / "a", tmp_path / "b")
    assert Run(tmp_path / "b").config().perf.gemm_layers == layers


def test_a_fresh_cpu_run_measures_and_records_its_choice_and_the_next_run_remembers_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEFORGE_CACHE_DIR", str(tmp_path / "cache"))
    said = []

    def progress(event):
        if event["kind"] == "message" and "Timing this machine's kernels" in event["text"]:
            said.append(event["text"])

    c = tiny_config(steps=1)
    c.perf.gemm_layers = None
    start_run(c, run_dir=tmp_path / "r", dataset=random_dataset(), progress=progress)
    assert len(said) == 1  # the pause at set-up is explained, once
    recorded = Run(tmp_path / "r").config().perf.gemm_layers
    assert isinstance(recorded, list)
    assert "per-layer GEMM vs oneDNN" in (tmp_path / "r" / "events.log").read_text()

    def no_timing(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(speed_mod, "tune_gemm_layers", no_timing)
    c = tiny_config(steps=1)
    c.perf.gemm_layers = None
    start_run(c, run_dir=tmp_path / "r2", dataset=random_dataset(), progress=progress)
    assert len(said) == 1  # nothing measured, nothing to explain
    assert Run(tmp_path / "r2").config().perf.gemm_layers == recorded
    assert_same_weights(tmp_path / "r", tmp_path / "r2")  # measuring left no trace in the run
    c = tiny_config(steps=1)
    c.perf.gemm_layers = None
    c.model.g_channels = 12  # other shapes: measured afresh
    with pytest.raises(AssertionError, match="measured again"):
        start_run(c, run_dir=tmp_path / "r3", dataset=random_dataset())


def test_remembered_timings_survive_damage_and_key_changes(tmp_path, monkeypatch):
    from faceforge.timings import remembered

    monkeypatch.setenv("FACEFORGE_CACHE_DIR", str(tmp_path))
    calls = []

    def measure(value):
        return lambda: calls.append(value) or value

    assert remembered("k", {"a": 1}, measure(1.5)) == (1.5, False)
    assert remembered("k", {"a": 1}, measure(9.0)) == (1.5, True)
    assert remembered("k", {"a": 2}, measure(2.5)) == (2.5, False)
    (tmp_path / "timings.json").write_text("{not json")
    assert remembered("k", {"a": 1}, measure(3.5)) == (3.5, False)
    assert calls == [1.5, 2.5, 3.5]


def test_a_stop_while_the_kernels_are_measured_cancels_before_training(tmp_path, monkeypatch):
    from faceforge.tasks import Cancelled

    monkeypatch.setenv("FACEFORGE_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    def stop_during_measuring():
        calls.append(1)
        return len(calls) >= 2  # the first layer is timed, then Stop

    c = tiny_config(steps=5)
    c.perf.gemm_layers = None
    with pytest.raises(Cancelled):
        start_run(c, run_dir=tmp_path / "r", dataset=random_dataset(), should_stop=stop_during_measuring)
    assert not (tmp_path / "cache" / "timings.json").exists()  # half a measurement is not remembered
    assert not (tmp_path / "r").exists()  # and no empty run folder is left to list
