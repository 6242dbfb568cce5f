"""DVC stage evaluate@<model> / evaluate_<model>: metrics, grids and curves in reports/<model>/."""

from condgen.config import MNIST_MODELS
from condgen.stages import model_arg, run_stage

MODELS = (*MNIST_MODELS, "pix2pix", "cyclegan")


def main() -> None:
    from condgen.config import EvaluateConfig, load_section, load_seed, load_train
    from condgen.evaluation.evaluate import flat_metrics
    from condgen.registry.register import log_evaluation

    model = model_arg(MODELS)
    model_dir, report_dir = f"models/{model}", f"reports/{model}"
    if model == "pix2pix":
        from condgen.evaluation import pix2pix

        result = pix2pix.evaluate(
            load_train("pix2pix"), load_seed(), model_dir, "data/paired", report_dir
        )
    elif model == "cyclegan":
        from condgen.evaluation import cyclegan

        result = cyclegan.evaluate(load_seed(), model_dir, "data/unpaired", report_dir)
    else:
        from condgen.evaluation.evaluate import evaluate

        config = load_section(EvaluateConfig, "evaluate")
        result = evaluate(
            model,
            config,
            model_dir,
            "data/mnist",
            "models/evaluator/evaluator.keras",
            report_dir,
        )
    log_evaluation(model, model_dir, report_dir, flat_metrics(result))
    shown = {k: v for k, v in result.items() if not isinstance(v, dict | str)}
    print(f"evaluated {model}: {shown}")


if __name__ == "__main__":
    run_stage(main)
