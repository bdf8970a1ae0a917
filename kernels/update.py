"""Plain SGD with optional momentum and L2 weight decay, in place, one pass over the array."""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
from numba import njit

from kernels.fastmath import FASTMATH

# No reassociation here: it would split lr (g/B + wd p) into p - lr g/B - lr wd p, where a small
# lr wd p is below half an ulp of p and rounds away every step (weight decay would vanish).
UPDATE_FASTMATH = FASTMATH - {"reassoc"}


@njit(nogil=True, cache=True, fastmath=UPDATE_FASTMATH, error_model="numpy")
def sgd_update(param, grad, velocity, lr, inv_batch, momentum, weight_decay):
    """param -= lr * (grad / B + wd * param), through velocity when momentum > 0.

    `grad` is summed over the batch; `lr`, `inv_batch`, `momentum`, `weight_decay` are scalars
    of param's float type. Works on any C-contiguous shape.
    """
    p = param.reshape(-1)
    g = grad.reshape(-1)
    if momentum > 0:
        v = velocity.reshape(-1)
        for i in range(p.size):
            v[i] = momentum * v[i] - lr * (g[i] * inv_batch + weight_decay * p[i])
            p[i] += v[i]
    else:
        for i in range(p.size):
            p[i] -= lr * (g[i] * inv_batch + weight_decay * p[i])


@njit(nogil=True, cache=True, fastmath=UPDATE_FASTMATH, error_model="numpy")
def finish_momentum_step(param, velocity, lr, weight_decay):
    """After velocity = momentum v - lr/B grad (one product): velocity -= lr wd param; param += velocity."""
    p = param.reshape(-1)
    v = velocity.reshape(-1)
    for i in range(p.size):
        v[i] -= lr * weight_decay * p[i]
        p[i] += v[i]

