"""Running what may be hostile: read-only SQL, bounded workers, process lifetimes."""
