"""The quality score must rank sets the way a person would: real < blurred < noise, and collapse is visible."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faceforge.training.metrics import diversity, ms_ssim, swd


@pytest.fixture(scope="module")
def faces():
    from faceforge.data.synthetic import make_builtin

    images, _, _ = make_builtin(1024, 32, 0)
    return images


def _blurred(images):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    x = F.interpolate(F.avg_pool2d(x, 4), scale_factor=4, mode="bilinear")
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def test_swd_ranks_real_blurred_noise(faces):
    real_a, real_b = faces[:512], faces[512:]
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, real_b.shape, dtype=np.uint8)
    s_real = swd(real_a, real_b)["swd"]
    s_blur = swd(real_a, _blurred(real_b))["swd"]
    s_noise = swd(real_a, noise)["swd"]
    assert s_real < s_blur < s_noise, (s_real, s_blur, s_noise)


def test_diversity_flags_a_collapsed_set(faces):
    real = faces[:256]
    rng = np.random.default_rng(1)
    one = faces[:1].astype(np.int16)
    collapsed = np.clip(one + rng.integers(-6, 7, (256, *one.shape[1:])), 0, 255).astype(np.uint8)
    few = faces[np.arange(256) % 3]  # three faces repeated: partial collapse
    d_real, d_few, d_collapsed = diversity(real), diversity(few), diversity(collapsed)
    assert d_real < d_few < d_collapsed, (d_real, d_few, d_collapsed)
    # and SWD sees the collapse too
    assert swd(faces[512:768], collapsed)["swd"] > swd(faces[512:768], real)["swd"]


def test_ms_ssim_is_one_for_identical_images():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.allclose(ms_ssim(x, x), torch.ones(4), atol=1e-4)
