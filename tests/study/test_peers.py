"""The bench's plain peers do the engine's work: the same model, the same updates."""

from __future__ import annotations

import numpy as np
import pytest

from aetui.data import load_dataset
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine
from aetui.model.state import ModelState
from aetui.study.numpy_peer import PlainNumpyTrainer


def _clean(**changes) -> TrainConfig:
    return TrainConfig(noise=0.0, dropout=0.0, **changes).validated()


def _engine_weights(config, data, order, batches):
    state = ModelState.initial(config.hidden, data.n_visible, config.tied, 0)
    Engine(config, state).train(data.images, 1 / 255, order, 0, batches, 0, 0)
    return state


@pytest.mark.parametrize("tied", [True, False])
def test_the_plain_numpy_peer_trains_as_the_engine_does(tied):
    data = load_dataset("mnist5k")
    config = _clean(tied=tied)
    order = np.arange(len(data.images), dtype=np.int64)
    peer = PlainNumpyTrainer(config, ModelState.initial(config.hidden, data.n_visible, tied, 0))
    for batches, atol in ((1, 1e-6), (30, 5e-4)):  # float32 rounding grows a little with the steps
        expected = _engine_weights(config, data, order, batches)
        peer.train(data.images, order, 0 if batches == 1 else config.batch, batches - (batches > 1))
        np.testing.assert_allclose(peer.W, expected.W, atol=atol)
        # the biases learn at 3.1 times the weights' rate, so their rounding grows faster
        np.testing.assert_allclose(peer.b, expected.b, atol=3 * atol)
        np.testing.assert_allclose(peer.c, expected.c, atol=3 * atol)
        assert np.abs(peer.W - expected.W).mean() < atol / 20
        if not tied:
            np.testing.assert_allclose(peer.W_dec.T, expected.W_dec, atol=atol)
    assert not np.allclose(peer.W, ModelState.initial(config.hidden, data.n_visible, tied, 0).W, atol=1e-3)


def test_the_plain_numpy_peer_draws_masks_at_the_study_rates():
    data = load_dataset("mnist5k")
    config = TrainConfig().validated()
    peer = PlainNumpyTrainer(config, ModelState.initial(100, data.n_visible, True, 0))
    drawn = peer.rng.random((2000, 784), dtype=np.float32) >= config.noise
    assert abs(drawn.mean() - 0.7) < 0.01
    with pytest.raises(ValueError, match="sigmoid units, cross-entropy"):
        PlainNumpyTrainer(TrainConfig(activation="relu").validated(), ModelState.initial(4, 784, True, 0))


def test_the_manual_pytorch_peer_trains_as_the_engine_does():
    torch = pytest.importorskip("torch", reason="PyTorch is optional: the bench compares with it where installed")
    from aetui.study.torch_peer import TorchManualTrainer

    data = load_dataset("mnist5k")
    config = _clean()
    order = np.arange(len(data.images), dtype=np.int64)
    expected = _engine_weights(config, data, order, 30)
    peer = TorchManualTrainer(config, ModelState.initial(config.hidden, data.n_visible, True, 0))
    peer.train(data.images, order, 0, 30)
    assert peer.W.dtype == torch.float32
    np.testing.assert_allclose(peer.W.numpy(), expected.W, atol=5e-4)
    np.testing.assert_allclose(peer.b.numpy(), expected.b, atol=5e-4)
    assert np.abs(peer.W.numpy() - expected.W).mean() < 2.5e-5


@pytest.mark.parametrize("changes", [{"tied": True}, {"tied": False},
                                     {"activation": "relu", "output_activation": "linear"}],
                         ids=["tied", "untied", "relu-linear"])
def test_the_autograd_pytorch_peer_trains_as_the_engine_does(changes):
    torch = pytest.importorskip("torch", reason="PyTorch is optional: the bench compares with it where installed")
    from aetui.study.torch_peer import TorchAutogradTrainer

    data = load_dataset("mnist5k")
    config = _clean(**changes)
    order = np.arange(len(data.images), dtype=np.int64)
    expected = _engine_weights(config, data, order, 30)
    start = ModelState.initial(config.hidden, data.n_visible, config.tied, 0)
    peer = TorchAutogradTrainer(config, start)
    peer.train(data.images, order, 0, 30)
    assert peer.W.dtype == torch.float32
    W = peer.W.detach().numpy()
    np.testing.assert_allclose(W, expected.W, atol=5e-4)
    np.testing.assert_allclose(peer.b.detach().numpy(), expected.b, atol=1.5e-3)
    np.testing.assert_allclose(peer.c.detach().numpy(), expected.c, atol=1.5e-3)
    assert np.abs(W - expected.W).mean() < 2.5e-5
    if not config.tied:
        np.testing.assert_allclose(peer.W_dec.detach().numpy(), expected.W_dec, atol=5e-4)
    assert not np.allclose(W, start.W, atol=1e-3)  # it learned: the agreement is not of two idle copies
