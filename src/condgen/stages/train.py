"""DVC stage train@<model> / train_<model>: params train.<model>, seed -> models/<model>/."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage

MODELS = (*MNIST_MODELS, "pix2pix", "cyclegan")


def main() -> None:
    from condgen.config import load_seed, load_train

    model = model_arg(MODELS)
    config = load_train(model)
    out, ckpt = f"models/{model}", f"checkpoints/{model}"
    if model == "pix2pix":
        from condgen.training import pix2pix

        info = pix2pix.train(config, load_seed(), "data/paired", out, ckpt)
    elif model == "cyclegan":
        from condgen.training import cyclegan

        info = cyclegan.train(config, load_seed(), "data/unpaired", out, ckpt)
    else:
        from condgen.training.fit import train

        info = train(model, config, load_seed(), "data/mnist", out, ckpt)
    print(f"trained {model}: {info['steps']} steps, MLflow run {info['run_id']}")


if __name__ == "__main__":
    run_stage(main)
