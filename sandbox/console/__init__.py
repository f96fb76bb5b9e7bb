"""The sandbox's web console (a single static HTML page)."""
