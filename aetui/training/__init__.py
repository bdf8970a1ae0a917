"""Training: the trainer, the one training loop, the runner thread, frames for watchers."""
