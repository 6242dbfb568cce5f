"""Procedural facade scenes, drawn as label maps and as photos by day or night: the offline
data of the Pix2Pix and CycleGAN families."""
