"""A run: variant specs, the variant file, the one builder, and variants over a split as events, batch or live."""
