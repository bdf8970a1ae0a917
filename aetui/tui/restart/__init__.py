"""Restarting the training: the a dialog and the offer after a divergence."""
