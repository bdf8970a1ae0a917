"""General matrix product with alpha and beta, C = alpha op(A) op(B) + beta C, from Numba code.

np.dot in Numba has no alpha/beta; with them the weight update folds into the gradient product
(W = (1 - lr wd) W - lr/B dA^T X), which saves a pass over W and the gradient buffer. The BLAS
is SciPy's (as np.dot in Numba uses): its sgemm/dgemm addresses are registered as symbols at
import, so compiled kernels refer to them by name and stay cacheable on disk.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import llvmlite.binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

_SYMBOLS = {types.float32: "aetui_sgemm", types.float64: "aetui_dgemm"}
for _name, _symbol in (("sgemm", "aetui_sgemm"), ("dgemm", "aetui_dgemm")):
    llvm.add_symbol(_symbol, get_cython_function_address("scipy.linalg.cython_blas", _name))

NO_TRANS = 78  # ord("N")
TRANS = 84  # ord("T")


@intrinsic
def _fortran_gemm(typingctx, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """Column-major BLAS ?gemm on the data pointers of C-contiguous arrays a, b, c."""
    dtype = c.dtype
    if dtype not in _SYMBOLS or a.dtype != dtype or b.dtype != dtype:
        return None
    sig = types.void(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        ta, tb, m_, n_, k_, al, av, lda_, bv, ldb_, be, cv, ldc_ = args
        sig_args = signature.args
        i8, i32 = ir.IntType(8), ir.IntType(32)
        flt = context.get_value_type(dtype)

        def slot(value, from_type, to_type, ir_type):
            ptr = cgutils.alloca_once(builder, ir_type)
            builder.store(context.cast(builder, value, from_type, to_type), ptr)
            return ptr

        def data(val, ty):
            return context.make_array(ty)(context, builder, val).data

        fnty = ir.FunctionType(ir.VoidType(), [i8.as_pointer(), i8.as_pointer()] + [i32.as_pointer()] * 3
                               + [flt.as_pointer()] * 2 + [i32.as_pointer(), flt.as_pointer(), i32.as_pointer()]
                               + [flt.as_pointer()] * 2 + [i32.as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _SYMBOLS[dtype])
        builder.call(fn, [
            slot(ta, sig_args[0], types.int8, i8), slot(tb, sig_args[1], types.int8, i8),
            slot(m_, sig_args[2], types.int32, i32), slot(n_, sig_args[3], types.int32, i32),
            slot(k_, sig_args[4], types.int32, i32), slot(al, sig_args[5], dtype, flt),
            data(av, sig_args[6]), slot(lda_, sig_args[7], types.int32, i32),
            data(bv, sig_args[8]), slot(ldb_, sig_args[9], types.int32, i32),
            slot(be, sig_args[10], dtype, flt), data(cv, sig_args[11]), slot(ldc_, sig_args[12], types.int32, i32),
        ])
        return context.get_dummy_value()

    return sig, codegen


@njit(nogil=True, cache=True)
def gemm(alpha, a, trans_a, b, trans_b, beta, c):
    """c = alpha op(a) op(b) + beta c for C-contiguous 2D a, b, c (op = transpose when trans_*).

    Shapes: op(a) (m, k), op(b) (k, n), c (m, n). Row-major C is column-major C^T, so this asks
    BLAS for C^T = op(b)^T op(a)^T.
    """
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if (b.shape[1] if trans_b else b.shape[0]) != k or (a.shape[1] if trans_a else a.shape[0]) != m \
            or (b.shape[0] if trans_b else b.shape[1]) != n:
        raise ValueError("gemm: shapes do not match")
    _fortran_gemm(TRANS if trans_b else NO_TRANS, TRANS if trans_a else NO_TRANS, n, m, k, alpha,
                  b, b.shape[1], a, a.shape[1], beta, c, n)
