"""modelwatch analysis."""
