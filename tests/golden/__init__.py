"""Golden set: recorded API and CLI answers replayed against the current code (issue 9)."""
