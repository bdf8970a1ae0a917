"""Modal screens: help, restart, open session, divergence offer."""
