"""The Pix2Pix family: paired image-to-image translation (Isola et al. 2017)."""
