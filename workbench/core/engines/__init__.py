"""Execution engines: one module per database engine, one contract (see ``base``)."""
