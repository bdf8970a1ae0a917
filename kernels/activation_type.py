"""An activation as a Numba type of its own, so that each kernel compiles for one activation.

With the activation passed as an integer code, every kernel that applies one carried all ten
(value and derivative, in each loop that uses them) whatever the run needed: about a fifth of a
cold start. An `Activation` value has the Numba type `ActivationType(code)`, one type per
activation, so a kernel taking it is compiled, and cached, once per activation it is called
with; kernels/activations.py picks the scalar function from the type while typing. The value
itself carries nothing at run time.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
from numba.core import types
from numba.extending import NativeValue, models, register_model, typeof_impl, unbox

from kernels.activation_codes import ACTIVATIONS


class Activation:
    """An activation for the kernels: `activation(code)` gives the one instance per code."""

    __slots__ = ("code",)

    def __init__(self, code: int):
        if not 0 <= code < len(ACTIVATIONS):
            raise ValueError(f"no activation has code {code}")
        self.code = int(code)

    def __repr__(self) -> str:
        return f"activation({ACTIVATIONS[self.code]})"


_INSTANCES = tuple(Activation(code) for code in range(len(ACTIVATIONS)))


def activation(code: int) -> Activation:
    """The kernels' activation with this code (an index into ACTIVATIONS)."""
    return _INSTANCES[code]


class ActivationType(types.Type):
    """The Numba type of one activation; `code` is known while typing."""

    def __init__(self, code: int):
        self.code = int(code)
        super().__init__(name=f"activation({ACTIVATIONS[self.code]})")


@typeof_impl.register(Activation)
def _typeof_activation(value, context):
    return ActivationType(value.code)


register_model(ActivationType)(models.OpaqueModel)


@unbox(ActivationType)
def _unbox_activation(typ, obj, c):
    return NativeValue(c.context.get_dummy_value())
