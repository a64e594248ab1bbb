"""A run: variants over a split, streamed as events, batch or live."""
