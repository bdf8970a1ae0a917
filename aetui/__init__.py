"""aetui: watch a single-hidden-layer autoencoder learn, in a terminal."""

__version__ = "0.1.0"
