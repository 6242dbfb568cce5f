"""DVC stage evaluate@<model>: metrics, grid and curves in reports/<model>/ and the MLflow run."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage


def main() -> None:
    from condgen.config import EvaluateConfig, load_section
    from condgen.evaluation.evaluate import evaluate, flat_metrics
    from condgen.registry.register import log_evaluation

    model = model_arg(MNIST_MODELS)
    config = load_section(EvaluateConfig, "evaluate")
    result = evaluate(
        model,
        config,
        f"models/{model}",
        "data/mnist",
        "models/evaluator/evaluator.keras",
        f"reports/{model}",
    )
    log_evaluation(model, f"models/{model}", f"reports/{model}", flat_metrics(result))
    shown = {k: v for k, v in result.items() if not isinstance(v, dict)}
    print(f"evaluated {model}: {shown}")


if __name__ == "__main__":
    run_stage(main)
