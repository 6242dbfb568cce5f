"""DVC stage register@<model>: pyfunc model in MLflow, registered, champion policy applied."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage


def main() -> None:
    from condgen.registry.register import register

    model = model_arg(MNIST_MODELS)
    decision = register(
        model, f"models/{model}", f"reports/{model}", f"reports/{model}/registration.json"
    )
    print(f"registered {decision['registered_model']} v{decision['version']}: {decision['reason']}")


if __name__ == "__main__":
    run_stage(main)
