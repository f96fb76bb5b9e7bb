"""Expert registry and the emergency-community lifecycle."""
