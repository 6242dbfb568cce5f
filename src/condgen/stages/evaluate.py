"""DVC stage evaluate@<model> / evaluate_<model>: metrics, grids and curves in reports/<model>/."""

from condgen.stages import name_arg, run_stage


def main() -> None:
    from condgen import families
    from condgen.core.metrics import flat_metrics
    from condgen.core.params import DEFAULT_PARAMS, load_seed
    from condgen.core.registry import log_evaluation

    model = families.MODELS[name_arg(families.MODELS)]
    family = families.family_of(model)
    result = families.module(family, "evaluate").evaluate_stage(
        model, DEFAULT_PARAMS, load_seed(), model.model_dir, family.data_dir, model.report_dir
    )
    log_evaluation(model.name, model.model_dir, model.report_dir, flat_metrics(result))
    shown = {k: v for k, v in result.items() if not isinstance(v, dict | str)}
    print(f"evaluated {model.name}: {shown}")


if __name__ == "__main__":
    run_stage(main)
