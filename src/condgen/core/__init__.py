"""What every family uses: params, runtime, tracking, downloads, images, layers, losses, the
adversarial base model, the one fit driver, metrics, plots and the champion policy."""
