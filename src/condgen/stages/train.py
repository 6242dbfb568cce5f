"""DVC stage train@<model> / train_<model>: params train.<model>, seed -> models/<model>/."""

from condgen.stages import name_arg, run_stage


def main() -> None:
    from condgen import families
    from condgen.core.params import load_seed, load_train

    model = families.MODELS[name_arg(families.MODELS)]
    config = load_train(model.name)
    family = families.family_of(model)
    info = families.module(family, "train").train(
        model, config, load_seed(), family.data_dir, model.model_dir, model.checkpoint_dir
    )
    if "worker" in info:
        print(f"trained {model.name} as worker {info['worker']}: the chief keeps the outputs")
        return
    print(f"trained {model.name}: {info['steps']} steps, MLflow run {info['run_id']}")


if __name__ == "__main__":
    run_stage(main)
