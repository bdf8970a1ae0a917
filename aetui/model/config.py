"""Training configuration: one frozen dataclass, the per-activation defaults, validation."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from aetui.errors import ConfigError
from kernels.activation_codes import ACTIVATIONS

OUTPUT_ACTIVATIONS = ("same", "sigmoid", "linear")
# The KL sparsity penalty compares a unit's mean code with a target rate: codes must lie in [0, 1].
SPARSE_CODE_ACTIVATIONS = ("sigmoid", "step_relu")
LOSSES = ("auto", "cross_entropy", "squared_error")

# Learning rates per hidden activation: the study's (784-100-784, batch 20), except softplus and
# elu, chosen on a x2 ladder 0.005..0.16 (mnist5k, study defaults, 100k samples): the largest rate
# at least 4x below the first one that diverged or doubled the held-out loss, and within 10% of
# the best loss. softplus: 0.04 -> 0.0185 (best 0.0170 at 0.08; 0.16 doubled it);
# elu: 0.02 -> 0.0182 (best 0.0180 at 0.005; 0.08 diverged).
DEFAULT_LR = {
    "sigmoid": 0.26,
    "tanh": 0.04,
    "relu": 0.02,
    "leaky_relu": 0.07,
    "step_relu": 0.022,
    "leaky_step_relu": 0.06,
    "linear": 0.01,
    "abs": 0.01,
    "softplus": 0.04,
    "elu": 0.02,
}
# Bias learning rate as a multiple of lr: the study used x3.1 for sigmoid, x1 elsewhere.
DEFAULT_BIAS_LR_SCALE = {name: (3.1 if name == "sigmoid" else 1.0) for name in ACTIVATIONS}


def restart_weight_scale(old_activation: str, new_activation: str) -> float:
    """The default scale of reused weights: x0.1 across activations (the study's fix for divergence)."""
    return 1.0 if old_activation == new_activation else 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training segment; None means "the default for the activation"."""

    data: str = "mnist5k"
    hidden: int = 100
    activation: str = "sigmoid"
    output_activation: str = "same"
    loss: str = "auto"
    batch: int = 20
    lr: float | None = None
    bias_lr_scale: float | None = None
    momentum: float = 0.0
    weight_decay: float = 0.0
    sparsity_target: float = 0.05
    sparsity_weight: float = 0.0
    noise: float = 0.3
    dropout: float = 0.4
    tied: bool = True
    balanced: bool = False
    seed: int = 0
    heldout: float = 0.1

    # -- resolved values -------------------------------------------------------------------
    @property
    def out_activation(self) -> str:
        """The output layer's activation name after resolving "same"."""
        return self.activation if self.output_activation == "same" else self.output_activation

    @property
    def loss_name(self) -> str:
        """cross_entropy or squared_error after resolving "auto"."""
        if self.loss != "auto":
            return self.loss
        return "cross_entropy" if self.out_activation == "sigmoid" else "squared_error"

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.activation] if self.lr is None else self.lr

    @property
    def bias_learning_rate(self) -> float:
        scale = DEFAULT_BIAS_LR_SCALE[self.activation] if self.bias_lr_scale is None else self.bias_lr_scale
        return self.learning_rate * scale

    # -- construction ------------------------------------------------------------------------
    def replace(self, **changes) -> TrainConfig:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes).validated()

    def validated(self) -> TrainConfig:
        """Self, or ConfigError naming the first bad option."""
        _check(self.activation in ACTIVATIONS,
               f"unknown activation {self.activation!r} (choose from {', '.join(ACTIVATIONS)})")
        _check(self.output_activation in OUTPUT_ACTIVATIONS,
               f"unknown output activation {self.output_activation!r} (choose from {', '.join(OUTPUT_ACTIVATIONS)})")
        _check(self.loss in LOSSES, f"unknown loss {self.loss!r} (choose from {', '.join(LOSSES)})")
        _check(self.loss_name != "cross_entropy" or self.out_activation == "sigmoid",
               f"--loss cross_entropy needs outputs in (0, 1), i.e. a sigmoid output layer; the output "
               f"activation here is {self.out_activation} (use --output-activation sigmoid or --loss squared_error)")
        _check(_is_int(self.hidden) and 1 <= self.hidden <= 100_000, f"--hidden must be a whole number from 1 to 100000, not {self.hidden}")
        _check(_is_int(self.batch) and 1 <= self.batch <= 100_000, f"--batch must be a whole number from 1 to 100000, not {self.batch}")
        _check(_is_int(self.seed) and 0 <= self.seed < 2**63, f"--seed must be a whole number >= 0, not {self.seed}")
        _check(self.lr is None or _finite(self.lr) and self.lr > 0, f"--lr must be a positive number, not {self.lr}")
        _check(self.bias_lr_scale is None or _finite(self.bias_lr_scale) and self.bias_lr_scale >= 0,
               f"--bias-lr-scale must be a number >= 0, not {self.bias_lr_scale}")
        _check(_finite(self.momentum) and 0 <= self.momentum < 1, f"--momentum must be in [0, 1), not {self.momentum}")
        _check(_finite(self.weight_decay) and self.weight_decay >= 0, f"--weight-decay must be >= 0, not {self.weight_decay}")
        _check(_finite(self.sparsity_target) and 0 < self.sparsity_target < 1,
               f"--sparsity-target must be in (0, 1), not {self.sparsity_target}")
        _check(_finite(self.sparsity_weight) and self.sparsity_weight >= 0,
               f"--sparsity-weight must be >= 0, not {self.sparsity_weight}")
        _check(self.sparsity_weight == 0 or self.activation in SPARSE_CODE_ACTIVATIONS,
               f"--sparsity-weight needs hidden codes in [0, 1] ({' or '.join(SPARSE_CODE_ACTIVATIONS)}); "
               f"{self.activation} codes are not, so the KL penalty is undefined")
        _check(_finite(self.noise) and 0 <= self.noise < 1, f"--noise must be in [0, 1), not {self.noise}")
        _check(_finite(self.dropout) and 0 <= self.dropout < 1, f"--dropout must be in [0, 1), not {self.dropout}")
        _check(_finite(self.heldout) and 0 < self.heldout < 1, f"held-out fraction must be in (0, 1), not {self.heldout}")
        _check(isinstance(self.data, str) and self.data != "", "--data must name a data set or a path")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> TrainConfig:
        """Build from a saved dict; unknown or missing keys are errors, not silent defaults."""
        if not isinstance(raw, dict):
            raise ConfigError("config must be a JSON object")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise ConfigError(f"config has unknown keys: {', '.join(map(repr, unknown))}")
        try:
            return cls(**raw).validated()
        except TypeError as exc:  # pragma: no cover - dataclass signature errors
            raise ConfigError(f"config is malformed: {exc}") from None


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
