"""DVC stage train_evaluator: the MNIST classifier that scores every MNIST generator."""

from condgen.stages import run_stage


def main() -> None:
    from condgen.config import EvaluatorConfig, load_section, load_seed
    from condgen.evaluation.classifier import train_classifier

    config = load_section(EvaluatorConfig, "evaluator")
    metrics = train_classifier(config, load_seed(), "data/mnist", "models/evaluator")
    print(f"evaluator test accuracy: {metrics['test_accuracy']:.4f}")


if __name__ == "__main__":
    run_stage(main)
