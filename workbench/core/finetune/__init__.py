"""Fine-tuning: training data from the same templates as runs, its validation, and jobs."""
