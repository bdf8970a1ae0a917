"""Comparing runs: `aetui compare`, the c picker and screen with their panes, and the live fork."""
