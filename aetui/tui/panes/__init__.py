"""The dashboard's panes (loss, biases, filters, reconstructions, snapshots) and the bars around them."""
