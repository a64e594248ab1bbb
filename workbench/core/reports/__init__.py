"""Results, summaries, comparisons, history and exports."""
