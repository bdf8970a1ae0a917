"""How often the dashboard looks at the runner and redraws, in Hz: every refresh rate lives here.

Redraws happen only when the data behind a pane changed (frame / history version), so a paused
session sends nothing over the wire; while training, images cost most bytes and refresh slowest.
"""

POLL_HZ = 10.0  # read runner.frame and runner.notices(), update the status line
CHART_HZ = 5.0  # loss chart and bias history (when history.version changed)
IMAGE_HZ = 2.0  # filters, reconstructions, visible bias (when frame.version changed)

LR_PENDING_SECONDS = 0.5  # an lr change not yet in a frame is the base of the next +/- press
