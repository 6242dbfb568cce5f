"""Old module paths, kept for model versions registered before the one-folder-per-family layout.

Their pyfunc files import ``condgen.models.conv_blocks``; nothing new belongs here.
"""
