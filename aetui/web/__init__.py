"""The dashboard in a browser: a textual-serve server whose every tab is one more attached
dashboard, behind a token (textual-serve has none of its own). Loaded only by `aetui serve`;
textual-serve is the optional extra `aetui[web]`."""
