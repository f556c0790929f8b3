"""modelwatch collector."""
