"""Templates, their bounds, and the context put into a prompt (the plain prompt included)."""
