"""The scenario catalogue, the classifier and the manual renderer."""
