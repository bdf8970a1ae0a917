"""Intervals and the study's claims, on constructed numbers whose answers are known by hand."""

import math

import pytest
from scipy import stats

from aetui.study.claims import CONTRADICTED, HOLDS, NOT_SHOWN, judge_claims
from aetui.study.intervals import mean_interval, share_interval
from aetui.study.seed_summary import summarise_seeds
from aetui.study.transfer import TransferPlan


def test_mean_interval_is_student_t_with_n_minus_1_degrees():
    i = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.7764
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert i.mean == 3.0 and i.n == 5
    assert i.low == pytest.approx(3 - half, rel=1e-12) and i.high == pytest.approx(3 + half, rel=1e-12)
    assert i.half_width == pytest.approx(half)
    # Wider than the normal approximation would give with five values.
    assert half > 1.96 * math.sqrt(2.5) / math.sqrt(5)


def test_mean_interval_leaves_out_non_finite_values_and_needs_two():
    i = mean_interval([2.0, math.nan, None, math.inf, 4.0])
    assert i.n == 2 and i.mean == 3.0
    assert i.high - i.low == pytest.approx(2 * stats.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2))
    one = mean_interval([7.0, math.nan])
    assert (one.mean, one.low, one.high, one.n) == (7.0, None, None, 1)
    assert mean_interval([]).mean is None
    same = mean_interval([0.5, 0.5, 0.5])
    assert (same.low, same.high) == (0.5, 0.5)


def test_share_interval_is_clopper_pearson():
    i = share_interval(5, 5)
    assert i.mean == 1.0 and i.high == 1.0
    assert i.low == pytest.approx(0.025 ** (1 / 5), rel=1e-9)  # exact: (alpha/2)^(1/n) for n of n
    none = share_interval(0, 4)
    assert none.low == 0.0 and none.high == pytest.approx(1 - 0.025 ** (1 / 4), rel=1e-9)


def _run(**kw):
    base = dict(heldout_loss=0.1, heldout_at_tenth=0.2, locality=0.5, spread=0.2, contrast=10.0,
                start_cosine=0.9, bias_corr=0.9, diverged=0.0)
    base.update(kw)
    return base


def _runs(n_seeds=5, **per_label):
    """Condition name -> seed -> metrics; per_label[name] is a function seed -> overrides."""
    labels = ["sigmoid", "sigmoid-sigmoid", "sigmoid-relu-x0.1", "sigmoid-relu-x1", "relu"]
    return {lab: {s: _run(**per_label.get(lab, lambda s: {})(s)) for s in range(n_seeds)} for lab in labels}


def _claims(runs):
    return {c.statement: c for c in judge_claims(TransferPlan(activation="relu", scales=(0.1, 1.0)).claims(), runs)}


def test_paired_difference_removes_what_the_seeds_share():
    # The sigmoid-sigmoid contrast is above its source's by 0.1 (+-0.01) while seeds move both by +-3:
    # unpaired, the two could not be told apart; paired, the difference is clear.
    shift = [3.0, -2.0, 1.0, -3.0, 2.5]
    noise = [0.01, -0.01, 0.0, 0.005, -0.005]
    runs = _runs(**{"sigmoid": lambda s: dict(contrast=10 + shift[s]),
                    "sigmoid-sigmoid": lambda s: dict(contrast=10.1 + shift[s] + noise[s])})
    claim = _claims(runs)["contrast(sigmoid-sigmoid) > contrast(sigmoid)"]
    diffs = [0.1 + e for e in noise]
    expect = mean_interval(diffs)
    assert claim.interval.mean == pytest.approx(0.1) and claim.interval.low == pytest.approx(expect.low)
    assert claim.interval.n == 5 and claim.verdict == HOLDS
    unpaired = mean_interval([10.1 + a + e for a, e in zip(shift, noise)])
    assert unpaired.low < mean_interval([10 + a for a in shift]).high  # the unpaired intervals overlap
    js = claim.to_json()
    assert js["verdict"] == "holds" and js["effect"] == pytest.approx(0.1) and js["pairs"] == 5
    assert js["ci"] == [pytest.approx(expect.low), pytest.approx(expect.high)]


def test_verdicts_holds_contradicted_not_shown():
    # relu more local than sigmoid in every seed: the claim "sigmoid more local" is contradicted.
    runs = _runs(**{"relu": lambda s: dict(locality=0.6 + 0.01 * s), "sigmoid": lambda s: dict(locality=0.5 + 0.01 * s)})
    assert _claims(runs)["locality(sigmoid) > locality(relu)"].verdict == CONTRADICTED
    # Differences of either sign: not shown.
    mixed = [0.05, -0.04, 0.03, -0.05, 0.01]
    runs = _runs(**{"relu": lambda s: dict(locality=0.5 + mixed[s])})
    assert _claims(runs)["locality(sigmoid) > locality(relu)"].verdict == NOT_SHOWN
    # One seed never shows anything, however large the effect.
    runs = _runs(1, **{"relu": lambda s: dict(locality=0.1)})
    one = _claims(runs)["locality(sigmoid) > locality(relu)"]
    assert one.interval.mean == pytest.approx(0.4) and one.interval.low is None and one.verdict == NOT_SHOWN
    assert one.to_json()["ci"] is None


def test_level_claims_compare_with_their_reference():
    runs = _runs(**{"sigmoid-relu-x0.1": lambda s: dict(start_cosine=0.3 + 0.01 * s)})
    kept = _claims(runs)["start_cosine(sigmoid-relu-x0.1) > 0.5"]
    assert kept.kind == "mean" and kept.reference == 0.5 and kept.interval.mean == pytest.approx(0.32)
    assert kept.verdict == CONTRADICTED
    assert _claims(_runs())["bias_corr(sigmoid-sigmoid) > 0.5"].verdict == HOLDS  # 0.9 in every seed


def test_diverged_seeds_leave_the_pairs_they_break():
    # Seed 4's relu x0.1 diverged: it has no metrics, so four pairs remain.
    runs = _runs(**{"sigmoid-relu-x0.1": lambda s: dict(spread=math.nan if s == 4 else 0.18 + 0.001 * s,
                                                         diverged=1.0 if s == 4 else 0.0)})
    thin = _claims(runs)["spread(sigmoid-relu-x0.1) < spread(sigmoid)"]
    assert thin.interval.n == 4 and thin.interval.mean == pytest.approx(-0.0185) and thin.verdict == HOLDS


def test_divergence_claim_is_a_share_of_seeds():
    all_five = _runs(**{"sigmoid-relu-x1": lambda s: dict(diverged=1.0)})
    claim = _claims(all_five)["diverged(sigmoid-relu-x1) and not diverged(sigmoid-relu-x0.1)"]
    assert claim.kind == "share of seeds" and claim.interval.mean == 1.0
    assert claim.verdict == NOT_SHOWN  # 5 of 5: the exact interval [0.48, 1] still reaches below one half
    eight = {lab: {s: dict(v[0]) for s in range(8)} for lab, v in all_five.items()}
    assert _claims(eight)["diverged(sigmoid-relu-x1) and not diverged(sigmoid-relu-x0.1)"].verdict == HOLDS
    never = _claims(_runs(8))["diverged(sigmoid-relu-x1) and not diverged(sigmoid-relu-x0.1)"]
    assert never.interval.mean == 0.0 and never.verdict == CONTRADICTED


def test_claims_per_activation_and_one_scale_has_no_divergence_claim():
    runs = _runs()
    runs["tanh"] = runs["relu"]
    runs["sigmoid-tanh-x0.1"] = runs["sigmoid-relu-x0.1"]
    claims = judge_claims(TransferPlan(activation=("relu", "tanh"), scales=(0.1,)).claims(), runs)
    statements = [c.statement for c in claims]
    assert "locality(sigmoid) > locality(tanh)" in statements and "locality(sigmoid) > locality(relu)" in statements
    assert not any(c.kind == "share of seeds" for c in claims)
    assert len(claims) == 4 + 2 * 5


def test_seed_summary_means_and_intervals_of_per_seed_json():
    def run(seed, loss, lifetime, diverged=False):
        return {"condition": "relu", "activation": "relu", "init": "random", "weight_scale": 1.0, "samples": 100,
                "loss": "squared_error", "session": f"t-relu-seed{seed}", "heldout_loss": None if diverged else loss,
                "start_heldout_loss": 1.0, "heldout_at_tenth": 0.5, "heldout_mse": loss, "locality": 0.4,
                "spread": 0.2, "contrast": 9.0, "start_cosine": 0.3, "dead_units": seed, "total_samples": 100,
                "similarity": {"max_cosine_mean": 0.2, "duplicates": 0},
                "sparsity": {"mean_code": 0.1, "lifetime": lifetime, "population": 0.5},
                "bias": {"min": -1.0, "mean": 0.0, "max": 1.0}, "bias_recovery": None, "diverged": diverged}

    runs = [run(0, 0.10, 0.7), run(1, 0.12, 0.8), run(2, 0.14, 0.9), run(3, 9.0, 0.6, diverged=True)]
    (s,) = summarise_seeds(runs)
    assert s["seeds"] == 4 and s["sessions"] == [f"t-relu-seed{k}" for k in range(4)]
    assert s["heldout_loss"] == pytest.approx(0.12)  # over the three that did not diverge
    i = mean_interval([0.10, 0.12, 0.14])
    assert s["heldout_loss_ci"] == [pytest.approx(i.low), pytest.approx(i.high)]
    assert s["sparsity"]["lifetime"] == pytest.approx(0.75) and len(s["sparsity"]["lifetime_ci"]) == 2
    assert s["locality_ci"] == [0.4, 0.4] and s["dead_units"] == 1.5
    assert s["bias_recovery"] is None and s["diverged_runs"] == 1 and s["diverged"] is True
    assert s["runs"] == runs
