"""Old module paths, kept for model versions registered before the one-folder-per-family layout.

Their pyfunc files import ``condgen.registry.requests`` and ``condgen.registry.translate``;
nothing new belongs here (the champion policy is :mod:`condgen.core.registry`).
"""
