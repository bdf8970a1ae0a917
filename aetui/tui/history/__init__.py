"""The history view (t): a cursor on the report points, the weights stored near it, its keys."""
