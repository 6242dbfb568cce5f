"""Evaluation: the MNIST evaluator classifier, metrics, grids and curves."""
