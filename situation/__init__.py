"""The domain core: reports, incidents, triage, deadlines, duty roster and audit."""
