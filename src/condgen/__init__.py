"""condgen: one reproducible pipeline for the classic generative-image models."""

__version__ = "0.1.0"
