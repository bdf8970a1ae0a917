"""The model: configuration, parameters, the engine over the kernels, the NumPy reference."""
