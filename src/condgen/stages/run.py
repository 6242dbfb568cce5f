"""DVC stages of one family only (the MNIST evaluator, style transfer): ``run <stage>``."""

from condgen.stages import name_arg, run_stage


def main() -> None:
    from condgen import families

    stages = [name for family in families.FAMILIES.values() for name, _ in family.stages]
    family, module, function = families.family_stage(name_arg(stages))
    getattr(families.module(family, module), function)()


if __name__ == "__main__":
    run_stage(main)
