"""The style family: neural style transfer (Gatys et al. 2016), a stage and `condgen stylize`."""
