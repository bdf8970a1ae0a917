"""How often the dashboard looks at the runner and redraws: every refresh rate lives here.

One timer ticks at TICK_HZ. Each tick reads runner.frame and the notices; the status line is
redrawn every STATUS_EVERY ticks; and at most ONE pane is redrawn per tick (the one waiting
longest past its interval), so no tick does all the drawing at once and the UI keeps its pace
while the training thread competes for the GIL. A pane whose data did not change (frame or
history version, size, view) is skipped and sends nothing: a paused session is silent over SSH.
"""

TICK_HZ = 12.0
STATUS_EVERY = 3  # ticks: the status line at 4 Hz

# Seconds between redraws of a pane, at most. Measured at 120x40 in 256 colours while training
# MNIST: ~70 KB/s with the pictures at 2 Hz, ~45 KB/s at 1 Hz (only changed lines are sent).
PANE_INTERVAL = {
    "loss": 0.2,  # the chart, 5 Hz
    "bias": 1.0,  # heatmap and visible-bias image
    "filters": 1.0,
    "recon": 1.0,
    "snapshots": 0.5,  # text, and it rarely changes
}

LR_PENDING_SECONDS = 0.5  # an lr change not yet in a frame is the base of the next +/- press
