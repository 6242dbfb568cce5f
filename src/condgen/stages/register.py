"""DVC stage register@<model> / register_<model>: log, register, apply the champion policy."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage


def main() -> None:
    from condgen.registry.register import register

    model = model_arg((*MNIST_MODELS, "pix2pix", "cyclegan"))
    decision = register(
        model, f"models/{model}", f"reports/{model}", f"reports/{model}/registration.json"
    )
    print(f"registered {decision['registered_model']} v{decision['version']}: {decision['reason']}")


if __name__ == "__main__":
    run_stage(main)
