"""Load and latency harnesses that print figures."""
