"""Datasets: sources, downloads and tf.data input pipelines."""
