"""Templates, their bounds, variant files and the context put into a prompt."""
