"""The loader: reading other trackers' exports (and our own) into rows of entries."""
