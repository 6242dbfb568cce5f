"""MLflow pyfunc wrappers, registration and the champion-alias policy."""
