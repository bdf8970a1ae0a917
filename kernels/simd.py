"""SIMD vectors as Numba values, for loops LLVM would not vectorise the way we need.

LLVM vectorises the innermost loop only. A product that adds scaled rows of R into a block of
output rows wants the reverse: a block of accumulators that stays in registers across the
whole reduction loop, vectorised along the output row. With these values a kernel holds the
block in named `Vector` locals, which LLVM keeps in registers.

A `Vector` holds LANES32 float32 or LANES64 float64 elements: one 512-bit register where the
CPU has AVX-512, else 256 bits (elsewhere LLVM splits them as it needs; the results are the same).
VECTOR_REGISTERS says how many such registers there are (32 with AVX-512, 16 without).
  load(a, i)            a[i : i + lanes] of a C-contiguous 1D array (no bounds check)
  store(a, i, x)        a[i : i + lanes] = x
  lanes(a)              how many elements of array a's type a Vector holds (a constant)
  splat(s)              every lane = s
  fma(x, y, acc)        x * y + acc, lane by lane, one rounding
  scale_add(s, x, t, y) s * x + t * y with s, t scalars (t * y skipped, even if NaN, when t == 0)
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import llvmlite.binding as llvm
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.core.datamodel import models, register_default
from numba.extending import intrinsic

_FEATURES = config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
VECTOR_BYTES = 64 if "+avx512f" in _FEATURES.split(",") else 32
# Vector registers the code may keep values in: 32 with AVX-512, 16 with AVX2. A kernel's block of
# accumulators must fit with its loads, or LLVM spills them to memory on every step
# (kernels/products.py picks its blocks by this).
VECTOR_REGISTERS = 32 if VECTOR_BYTES == 64 else 16
LANES32 = VECTOR_BYTES // 4
LANES64 = VECTOR_BYTES // 8


class Vector(types.Type):
    """lanes elements of dtype in one SIMD register."""

    def __init__(self, dtype, lanes):
        self.dtype = dtype
        self.lanes = lanes
        super().__init__(name=f"Vector({dtype}, {lanes})")


@register_default(Vector)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


def _vector_of(dtype):
    if dtype == types.float32:
        return Vector(dtype, LANES32)
    if dtype == types.float64:
        return Vector(dtype, LANES64)
    return None


def _element_pointer(context, builder, array_type, array, index, vector_type):
    data = context.make_array(array_type)(context, builder, array).data
    pointer = builder.gep(data, [index])
    return builder.bitcast(pointer, context.get_value_type(vector_type).as_pointer())


def _splat_value(context, builder, vector_type, scalar):
    ll_vector = context.get_value_type(vector_type)
    one = builder.insert_element(ir.Constant(ll_vector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), vector_type.lanes), [0] * vector_type.lanes)
    return builder.shuffle_vector(one, ir.Constant(ll_vector, ir.Undefined), mask)


@intrinsic
def load(typingctx, a, i):
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C") or not isinstance(i, types.Integer):
        return None
    vector = _vector_of(a.dtype)
    if vector is None:
        return None

    def codegen(context, builder, signature, args):
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        pointer = _element_pointer(context, builder, signature.args[0], args[0], index, vector)
        return builder.load(pointer, align=a.dtype.bitwidth // 8)

    return vector(a, i), codegen


@intrinsic
def store(typingctx, a, i, x):
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.mutable) \
            or not isinstance(i, types.Integer) or x != _vector_of(a.dtype):
        return None

    def codegen(context, builder, signature, args):
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        pointer = _element_pointer(context, builder, signature.args[0], args[0], index, x)
        builder.store(args[2], pointer, align=a.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.void(a, i, x), codegen


@intrinsic
def lanes(typingctx, a):
    if not isinstance(a, types.Array) or _vector_of(a.dtype) is None:
        return None
    count = _vector_of(a.dtype).lanes

    def codegen(context, builder, signature, args):
        return context.get_constant(types.intp, count)

    return types.intp(a), codegen


@intrinsic
def splat(typingctx, s):
    vector = _vector_of(s)
    if vector is None:
        return None

    def codegen(context, builder, signature, args):
        return _splat_value(context, builder, vector, args[0])

    return vector(s), codegen


@intrinsic
def fma(typingctx, x, y, acc):
    if not isinstance(x, Vector) or y != x or acc != x:
        return None

    def codegen(context, builder, signature, args):
        ll_vector = context.get_value_type(x)
        name = f"llvm.fma.v{x.lanes}{'f32' if x.dtype == types.float32 else 'f64'}"
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ll_vector, [ll_vector] * 3), name)
        return builder.call(function, args)

    return x(x, y, acc), codegen


@intrinsic
def _scale(typingctx, s, x):
    if not isinstance(x, Vector) or s != x.dtype:
        return None

    def codegen(context, builder, signature, args):
        return builder.fmul(_splat_value(context, builder, x, args[0]), args[1])

    return x(s, x), codegen


@njit(nogil=True, cache=True, inline="always")
def scale_add(s, x, t, y):
    """s * x + t * y for vectors x, y and scalars s, t; y is not read into the sum when t == 0."""
    if t == 0:
        return _scale(s, x)
    return fma(splat(s), x, _scale(t, y))

