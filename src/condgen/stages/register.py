"""DVC stage register@<model> / register_<model>: log, register, apply the champion policy."""

from condgen.stages import name_arg, run_stage


def main() -> None:
    from condgen import families
    from condgen.core.registry import register

    model = families.MODELS[name_arg(families.MODELS)]
    recipe = families.module(families.family_of(model), "registration").registration(model)
    decision = register(
        recipe,
        model.name,
        model.model_dir,
        model.report_dir,
        f"{model.report_dir}/registration.json",
    )
    print(f"registered {decision['registered_model']} v{decision['version']}: {decision['reason']}")


if __name__ == "__main__":
    run_stage(main)
