"""The Textual dashboard: watches a TrainingRunner's frames and sends it commands."""
