"""Use cases the GUI and the CLI call. No Qt."""
