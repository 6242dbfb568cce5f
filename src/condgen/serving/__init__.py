"""Serving: request parsing, image translation and the pyfunc wrappers MLflow serves."""
