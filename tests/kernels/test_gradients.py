"""Finite-difference checks of kernels.step.batch_gradients in float64.

The kernel returns gradients summed over the batch, and weight decay enters only in the update
(param -= lr * (grad / B + wd * param)), so grad / B + wd * param must equal dJ/dparam for
J = (1/B) sum_s L_s + (wd/2) |weights|^2 + beta sum_j KL(rho || rho_hat_j). Masks are a pure
function of (seed, step), so calling the kernel at theta +- eps replays the same noise and dropout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from aetui.model import reference as ref
from kernels.activation_type import activation
from kernels.activations import ACTIVATIONS
from kernels.rng import keep_threshold
from kernels.step import RHO_EPS, batch_gradients

F = np.float64
ONE = F(1.0)
LUT = np.arange(256, dtype=F) / 255
EMPTY = np.zeros((0, 0), F)
ROWS, COLS = 3, 4
V, H, B = ROWS * COLS, 5, 4
SEED, STEP = np.uint64(1234), np.int64(17)
EPS = 1e-6
RTOL = 1e-6  # |fd - grad| <= RTOL * max|grad| over all parameters; observed <= 1.2e-8
KINK_MARGIN = 1e-3
KINKS = {"relu": (0.0,), "leaky_relu": (0.0,), "abs": (0.0,), "step_relu": (0.0, 1.0),
         "leaky_step_relu": (0.0, 1.0)}


@dataclass(frozen=True)
class Case:
    act: str
    out: str  # "ce" (sigmoid output, cross-entropy), "same" or "linear" (squared error)
    tied: bool
    noise: float = 0.0
    dropout: float = 0.0
    beta: float = 0.0
    rho: float = 0.05
    wd: float = 0.0

    @property
    def out_act(self) -> str:
        return {"ce": "sigmoid", "same": self.act, "linear": "linear"}[self.out]

    @property
    def id(self) -> str:
        loss = "ce" if self.out == "ce" else f"se_{self.out}"
        return f"{self.act}-{loss}-{'tied' if self.tied else 'untied'}"


class Problem:
    """One batch and its kernel buffers; `run` evaluates the kernel at given parameters."""

    def __init__(self, case: Case, seed: int):
        rng = np.random.default_rng(seed)
        self.case = case
        self.data = rng.integers(0, 256, size=(2 * B, V), dtype=np.uint8)
        self.data[0, :3] = (0, 255, 128)
        self.rows = rng.permutation(2 * B)[:B].astype(np.int64)
        self.params = {
            "W": rng.uniform(-0.6, 0.6, size=(H, V)),
            "b": rng.uniform(-0.3, 0.8, size=H),
            "c": rng.uniform(-0.5, 0.5, size=V),
        }
        if not case.tied:
            self.params["W_dec"] = rng.uniform(-0.6, 0.6, size=(V, H))
        # The kernel's hidden buffers are unit-major (H, B); A and Hh are (B, H) views of them.
        self.AT, self.HhT, self.MT, self.Hd, self.dHd = (np.empty((H, B)) for _ in range(5))
        self.A, self.Hh, self.M = self.AT.T, self.HhT.T, self.MT.T
        self.kl = np.empty(H)
        self.P, self.Q = np.empty((2 * B, H)), np.empty((2, B, V))
        self.Xc, self.Yb = np.empty((B, V)), np.empty((B, V))
        self.Gw, self.gb, self.gc = np.empty((H, V)), np.empty(H), np.empty(V)
        self.Gwd = EMPTY if case.tied else np.empty((H, V))  # the decoder's rows, as the kernels take it

    def run(self, p: dict) -> float:
        """Call the kernel at parameters p; returns the reported summed loss."""
        c = self.case
        return batch_gradients(
            self.data, LUT, self.rows, p["W"], p["b"], p["c"], p["W"] if c.tied else np.ascontiguousarray(p["W_dec"].T), c.tied,
            activation(ACTIVATIONS.index(c.act)), activation(ACTIVATIONS.index(c.out_act)), c.out == "ce",
            keep_threshold(c.noise), keep_threshold(c.dropout), float(c.rho), float(c.beta), SEED, STEP,
            self.AT, self.HhT, self.MT, self.Hd, self.dHd, self.kl, self.P, self.Q, self.Xc, self.Yb,
            self.Gw, self.Gwd, self.gb, self.gc, ONE)

    def objective(self, p: dict) -> float:
        """J at p: the kernel's data term plus the KL term (from the kernel's codes) and decay."""
        c = self.case
        loss = self.run(p)
        J = loss / B if c.out == "ce" else loss / (2 * B)  # reported SE has no 1/2
        if c.beta > 0:
            q = np.clip(self.Hh.mean(axis=0), RHO_EPS, 1 - RHO_EPS)
            J += c.beta * np.sum(c.rho * np.log(c.rho / q) + (1 - c.rho) * np.log((1 - c.rho) / (1 - q)))
        if c.wd > 0:
            J += c.wd / 2 * sum(np.sum(p[k] ** 2) for k in ("W", "W_dec") if k in p)
        return J

    def kernel_gradient(self, p: dict) -> dict:
        """grad / B + wd * param for every parameter, as the update applies it."""
        self.run(p)
        wd = self.case.wd
        g = {"W": self.Gw / B + wd * p["W"], "b": self.gb / B, "c": self.gc / B}
        if "W_dec" in p:
            g["W_dec"] = self.Gwd.T / B + wd * p["W_dec"]
        return g

    def numeric_gradient(self, p: dict) -> dict:
        """Central differences of `objective` over every parameter element."""
        out = {}
        for name, value in p.items():
            g = np.empty_like(value)
            for idx in np.ndindex(value.shape):
                saved = value[idx]
                value[idx] = saved + EPS
                up = self.objective(p)
                value[idx] = saved - EPS
                down = self.objective(p)
                value[idx] = saved
                g[idx] = (up - down) / (2 * EPS)
            out[name] = g
        return out

    def kink_distance(self) -> float:
        """How close any hidden or output pre-activation sits to a kink of its activation."""
        c = self.case
        self.run(self.params)
        dist = [np.inf]
        for k in KINKS.get(c.act, ()):
            dist.append(np.abs(self.A - k).min())
        if c.out != "ce":
            W_dec = self.params.get("W_dec", self.params["W"].T)
            Z = self.Hd.T @ W_dec.T + self.params["c"]
            for k in KINKS.get(c.out_act, ()):
                dist.append(np.abs(Z - k).min())
        return min(dist)


def make_problem(case: Case) -> Problem:
    """A Problem whose pre-activations all keep KINK_MARGIN away from kinks (redrawn until so)."""
    for seed in range(100):
        problem = Problem(case, seed)
        if problem.kink_distance() > KINK_MARGIN:
            return problem
    raise RuntimeError(f"no kink-free draw for {case}")


def relative_error(a: dict, b: dict) -> float:
    """max |a - b| over all parameters, relative to the largest |b|."""
    scale = max(np.abs(v).max() for v in b.values())
    assert scale > 1e-3, "gradient is (almost) zero: the check would be vacuous"
    return max(np.abs(a[k] - b[k]).max() for k in b) / scale


def require(condition: bool, message: str) -> None:
    """A precondition: fails the test without an AssertionError, so an xfail cannot swallow it."""
    if not condition:
        pytest.fail(f"precondition: {message}")


def check(case: Case) -> Problem:
    problem = make_problem(case)
    grad = problem.kernel_gradient(problem.params)
    numeric = problem.numeric_gradient(problem.params)
    err = relative_error(numeric, grad)
    assert err < RTOL, f"{case.id}: finite differences differ from the kernel by {err:.2e} (relative)"
    return problem


# Every activation as the hidden and the output layer ("same"); the other two output paths (a
# sigmoid output with cross-entropy, a linear one) once each with a bounded and an unbounded
# hidden activation. Each (hidden, output) pair is a kernel compiled for the test alone (float64,
# 1-3 s each on an empty cache): the full cross of 28 pairs cost a minute and tested no more code.
OTHER_OUTPUTS = [("sigmoid", "ce"), ("relu", "ce"), ("tanh", "linear"), ("step_relu", "linear")]
BASE_CASES = [Case(act, out, tied) for act, out in [(a, "same") for a in ACTIVATIONS] + OTHER_OUTPUTS
              for tied in (True, False)]


@pytest.mark.parametrize("case", BASE_CASES, ids=[c.id for c in BASE_CASES])
def test_gradient_matches_finite_differences(case):
    check(case)


REGULARISED = {
    "noise": dict(noise=0.3),
    "dropout": dict(dropout=0.4),
    "sparsity": dict(beta=0.1, rho=0.05),
    "decay": dict(wd=0.01),
    "all": dict(noise=0.3, dropout=0.4, beta=0.1, rho=0.05, wd=0.01),
}
REG_BASES = [Case("sigmoid", "ce", True), Case("sigmoid", "same", False), Case("step_relu", "linear", False),
             Case("relu", "same", True), Case("tanh", "linear", False)]
REG_CASES = [(name, replace(base, **extra)) for name, extra in REGULARISED.items() for base in REG_BASES
             # KL needs codes in (0, 1): only sigmoid and step_relu here (see the clipping test below)
             if name not in ("sparsity", "all") or base.act in ("sigmoid", "step_relu")]


@pytest.mark.parametrize("name,case", REG_CASES, ids=[f"{n}-{c.id}" for n, c in REG_CASES])
def test_regularised_gradient_matches_finite_differences(name, case):
    problem = check(case)
    p = problem.params
    if case.noise > 0:  # the masks really were on
        problem.run(p)
        assert (problem.Q[0] == 0).sum() > (LUT[problem.data[problem.rows]] == 0).sum()
    if case.dropout > 0:
        problem.run(p)
        assert 0 < (problem.M == 0).sum() < B * H
    if case.beta > 0:
        # Precondition: rho_hat is clipped only where no sample has f'(a) != 0 (else see below).
        problem.run(p)
        rho_hat = problem.Hh.mean(axis=0)
        deriv = ref.derivative(case.act, problem.A, problem.Hh)
        clipped = (rho_hat < RHO_EPS) | (rho_hat > 1 - RHO_EPS)
        assert not np.any(clipped & np.any(deriv != 0, axis=0))


ALL_CASES = [(c.id, c) for c in BASE_CASES] + [(f"{n}-{c.id}", c) for n, c in REG_CASES]


@pytest.mark.parametrize("case", [c for _, c in ALL_CASES], ids=[i for i, _ in ALL_CASES])
def test_reference_step_matches_kernel_in_float64(case):
    """aetui.model.reference's step (its own NumPy masks) gives the kernel's loss and gradients."""
    problem = make_problem(case)
    p = problem.params
    loss = problem.run(p)
    g = problem.kernel_gradient(p)
    Xc = LUT[problem.data[problem.rows]]
    X = np.where(ref.noise_keep(int(SEED), int(STEP), (B, V), keep_threshold(case.noise)), Xc, 0.0)
    M = ref.dropout_multipliers(int(SEED), int(STEP), (B, H), keep_threshold(case.dropout), F)
    np.testing.assert_array_equal(X, problem.Q[0])
    np.testing.assert_array_equal(M, problem.M)
    r_loss, Gw, Gwd, gb, gc, _ = ref.batch_gradients(
        Xc, X, M, p["W"], p["b"], p["c"], p.get("W_dec"), case.act, case.out_act, case.out == "ce",
        case.rho, case.beta)
    assert r_loss == pytest.approx(loss, rel=1e-12)
    wd = case.wd
    np.testing.assert_allclose(Gw / B + wd * p["W"], g["W"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(gb / B, g["b"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(gc / B, g["c"], rtol=1e-10, atol=1e-13)
    if not case.tied:
        np.testing.assert_allclose(Gwd / B + wd * p["W_dec"], g["W_dec"], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("act,bias", [("relu", 2.0), ("tanh", -2.0)], ids=["relu-mean_above_1", "tanh-mean_below_0"])
def test_sparsity_gradient_where_rho_hat_is_clipped(act, bias):
    """Codes outside (0, 1) (relu, tanh, ...) clip rho_hat; J is then flat in that unit's mean."""
    with_kl, without = (make_problem(Case(act, "linear", True, beta=beta)) for beta in (0.1, 0.0))
    for problem in (with_kl, without):
        problem.params["b"][0] = bias  # unit 0's batch mean leaves (0, 1)
        require(problem.kink_distance() > KINK_MARGIN, "a pre-activation sits at a kink")
    with_kl.run(with_kl.params)
    rho_hat = with_kl.Hh.mean(axis=0)
    require(not RHO_EPS < rho_hat[0] < 1 - RHO_EPS, "unit 0's rho_hat is not clipped")
    require(np.all(ref.derivative(act, with_kl.A[:, 0], with_kl.Hh[:, 0]) > 0.01), "unit 0 is not live")
    # The KL term's share of the gradient alone, so nothing else can make this fail.
    g1, g0 = with_kl.kernel_gradient(with_kl.params), without.kernel_gradient(without.params)
    n1, n0 = with_kl.numeric_gradient(with_kl.params), without.numeric_gradient(without.params)
    kernel_kl = {k: g1[k] - g0[k] for k in g1}
    numeric_kl = {k: n1[k] - n0[k] for k in n1}
    require(np.abs(numeric_kl["b"][0]) < 1e-6, "J is not flat in b_0")  # the clipped mean does not move
    err = max(np.abs(kernel_kl[k] - numeric_kl[k]).max() for k in numeric_kl)
    assert err < 1e-6, f"KL gradient off by {err:.3g} (kernel d/db_0 {kernel_kl['b'][0]:.4g}, expected 0)"
