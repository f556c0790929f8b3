"""Alert state machine, routing and receivers (issue 4)."""
