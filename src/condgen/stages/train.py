"""DVC stage train@<model>: params train.<model>, seed -> models/<model>/."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage


def main() -> None:
    from condgen.config import load_seed, load_train
    from condgen.training.fit import train

    model = model_arg(MNIST_MODELS)
    config = load_train(model)
    info = train(
        model, config, load_seed(), "data/mnist", f"models/{model}", f"checkpoints/{model}"
    )
    print(f"trained {model}: {info['steps']} steps, MLflow run {info['run_id']}")


if __name__ == "__main__":
    run_stage(main)
