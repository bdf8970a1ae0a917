"""Trainer: exact resume, history and periods, restart semantics, divergence, bars learning."""

import numpy as np
import pytest

from aetui.model.config import TrainConfig
from aetui.data import bar_patterns
from aetui.training.launch import release_trainer, acquire_trainer
from aetui.sessions.store import SessionStore
from aetui.model.threads import compute_threads
from tests.helpers.training import every_point, train


def small(**kw) -> TrainConfig:
    base = dict(data="bars8", hidden=12, batch=10)
    base.update(kw)
    return TrainConfig(**base).validated()


def test_resume_is_bit_identical_with_noise_and_dropout(tmp_path):
    store = SessionStore(tmp_path)
    cfg = small(noise=0.3, dropout=0.4, momentum=0.5)
    # N + M in one go.
    one = acquire_trainer(store, "one", cfg, {})
    train(one, 2_355)
    train(one, 1_640)
    release_trainer(one)
    # N, save, reopen (a new process would do exactly this), M.
    two = acquire_trainer(store, "two", cfg, {})
    train(two, 2_355)
    release_trainer(two)
    two = acquire_trainer(store, "two", cfg, {})
    assert two.session.samples == 2_360  # whole batches: 2,350 rounds up
    train(two, 1_640)
    a, b = one.session.state, two.session.state
    assert one.session.samples == two.session.samples == 4_000
    for name in ("W", "b", "c", "vW", "vb", "vc"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    release_trainer(two)


def test_two_threads_train_bit_identical_to_one(tmp_path):
    # The study's sizes, where the step's products are big enough to be shared among threads.
    store = SessionStore(tmp_path)
    cfg = TrainConfig(noise=0.3, dropout=0.4, momentum=0.5).validated()
    states = []
    for threads in (1, 2):
        trainer = acquire_trainer(store, f"t{threads}", cfg, {})
        with compute_threads(threads):
            train(trainer, 2_000)
        states.append(trainer.session.state)
        release_trainer(trainer)
    assert np.abs(states[0].W - states[1].W).max() == 0 and np.abs(states[0].vW).max() > 0
    for name in ("W", "b", "c", "vW"):
        np.testing.assert_array_equal(getattr(states[0], name), getattr(states[1], name), err_msg=name)


def test_resume_exact_untied_balanced(tmp_path):
    store = SessionStore(tmp_path)
    cfg = small(tied=False, balanced=True, noise=0.2, dropout=0.1)
    one = acquire_trainer(store, "one", cfg, {})
    train(one, 3_000)
    two = acquire_trainer(store, "two", cfg, {})
    train(two, 1_000)
    release_trainer(two)
    two = acquire_trainer(store, "two", cfg, {})
    train(two, 2_000)
    np.testing.assert_array_equal(one.session.state.W_dec, two.session.state.W_dec)
    np.testing.assert_array_equal(one.session.state.W, two.session.state.W)
    release_trainer(one)
    release_trainer(two)


def test_history_periods_and_heldout(tmp_path):
    t = every_point(acquire_trainer(SessionStore(tmp_path), "h", small(), {}))
    train(t, 5_000)
    h = t.session.history
    samples = h.column("samples")
    assert samples[0] == 0 and 4_000 < samples[-1] <= 5_000
    assert np.all(np.diff(samples) > 0)
    held = h.column("heldout_loss")
    assert np.isfinite(held).all() and held[-1] < held[0]
    # Periods after 1, 2, 4, ... 256 batches of 10 samples (5,000 samples = 500 batches).
    assert [p["batches"] for p in h.periods] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert {s["name"] for s in t.session.snapshots if s["kind"] == "period"} >= {"seg0-period00", "seg0-period08"}
    assert h.bias_matrix().shape == (12, len(h))
    assert not h.bias_matrix()[:, 0].any() and h.bias_matrix()[:, -1].any()  # b starts at zero, then moves
    W0 = h.unit_w[0]  # per-unit W range at the first point is the initial weights' range
    r = np.sqrt(6 / (12 + 64 + 1))
    assert W0.shape == (12, 3) and np.all(W0[:, 0] >= -r) and np.all(W0[:, 2] <= r) and np.all(W0[:, 0] < W0[:, 2])
    assert len(h.visible_bias) == len(h) and not h.visible_bias[0].any() and h.visible_bias[-1].any()
    release_trainer(t)


def test_restart_scales_weights_resets_biases_and_keeps_history(tmp_path):
    t = acquire_trainer(SessionStore(tmp_path), "r", small(), {})
    train(t, 2_000)
    t.snapshot("learned")
    W_learned = t.session.state.W.copy()
    points_before = len(t.session.history)
    seg = t.restart("relu")
    assert seg["weight_scale"] == 0.1 and seg["source_activation"] == "sigmoid"
    np.testing.assert_allclose(t.session.state.W, W_learned * np.float32(0.1), rtol=0, atol=0)
    assert not t.session.state.b.any() and not t.session.state.c.any()
    assert t.session.lineage_label() == "sigmoid > relu x0.1"
    assert t.config.activation == "relu" and t.lr == pytest.approx(0.02)
    assert t.config.loss_name == "squared_error"
    assert len(t.session.history) == points_before + 1
    train(t, 500)
    # Same activation again from the snapshot: scale 1, biases kept when asked.
    seg = t.restart("sigmoid", source="learned", reset_biases=False)
    assert seg["weight_scale"] == 1.0 and seg["source"] == {"kind": "snapshot", "name": "learned", "segment": 0, "step": 200}
    np.testing.assert_array_equal(t.session.state.W, W_learned)
    assert t.session.lineage_label() == "sigmoid > relu x0.1 > sigmoid"
    release_trainer(t)


def test_divergence_keeps_last_finite_state_and_records_event(tmp_path):
    cfg = small(activation="relu", output_activation="linear", lr=1e4, noise=0.0, dropout=0.0)
    t = acquire_trainer(SessionStore(tmp_path), "d", cfg, {})
    train(t, 20_000)
    s = t.session
    assert s.diverged
    assert np.isfinite(s.state.W).all() and np.isfinite(s.state.b).all()
    (event,) = [e for e in s.history.events if e["kind"] == "diverged"]
    assert event["segment"] == 0 and event["samples"] > s.samples - 1 and event["samples"] <= 20_000
    assert "diverged" in t.message
    assert t.train_chunk() == 0  # refuses to go on until restarted
    t.restart("relu", weight_scale=0.1, lr=0.01)
    assert not s.diverged
    assert t.train_chunk() > 0
    release_trainer(t)


def test_bars_one_bar_per_unit(tmp_path):
    """A small sparse AE on 8x8 bars learns filters whose excitatory part is one bar each."""
    cfg = TrainConfig(data="bars8", hidden=16, batch=10, noise=0.2, dropout=0.0, sparsity_weight=3.0,
                      sparsity_target=0.1, seed=3).validated()
    t = acquire_trainer(SessionStore(tmp_path), "bars", cfg, {})
    train(t, 100_000)
    W = np.clip(t.session.state.W.astype(np.float64), 0, None)
    bars = bar_patterns(8).astype(np.float64)
    cos = (W / np.linalg.norm(W, axis=1, keepdims=True)) @ (bars / np.linalg.norm(bars, axis=1, keepdims=True)).T
    matched = cos.max(axis=1) > 0.9
    # Most units are one bar each, and no two of those share a bar.
    assert matched.sum() >= 12, np.round(cos.max(axis=1), 2)
    assert len(set(cos.argmax(axis=1)[matched])) == matched.sum()
    release_trainer(t)


def test_second_process_cannot_open_a_locked_session(tmp_path):
    from aetui.errors import SessionError

    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "l", small(), {})
    with pytest.raises(SessionError, match="open in another aetui"):
        acquire_trainer(store, "l", small(), {})
    release_trainer(t)
    release_trainer(acquire_trainer(store, "l", small(), {}))


def test_lr_changes_are_events_and_the_lineage_keeps_the_starting_lr(tmp_path):
    store = SessionStore(tmp_path)
    t = every_point(acquire_trainer(store, "lr", small(), {}))
    train(t, 500)
    t.set_lr(0.5)
    train(t, 500)
    t.set_lr(0.125)
    train(t, 500)
    release_trainer(t)
    from aetui.sessions.session import read_session

    s = read_session(store.path("lr"))
    assert s.lineage[0]["lr"] == 0.26 and s.lineage[0]["config"]["lr"] is None
    assert [(e["kind"], e["step"], e["lr"], e["previous"]) for e in s.history.events] == \
        [("lr", 50, 0.5, 0.26), ("lr", 100, 0.125, 0.5)]
    lr, steps = s.history.column("lr"), s.history.column("step")
    assert set(lr[steps <= 50]) == {0.26} and set(lr[(steps > 50) & (steps <= 100)]) == {0.5}
    assert lr[-1] == 0.125 and s.config.lr == 0.125
