"""The study: the transfer experiment, filter and code metrics, PNG pictures, the benchmark."""
