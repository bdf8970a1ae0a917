"""The activations by name, each one's integer code its index: plain Python, so the core can
name activations without loading Numba."""

ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "step_relu",
    "leaky_step_relu",
    "linear",
    "abs",
    "softplus",
    "elu",
)
SIGMOID, TANH, RELU, LEAKY_RELU, STEP_RELU, LEAKY_STEP_RELU, LINEAR, ABS, SOFTPLUS, ELU = range(10)

LEAK = 0.2  # slope of the leaky variants below 0 (and above 1 for leaky_step_relu), as in the study
