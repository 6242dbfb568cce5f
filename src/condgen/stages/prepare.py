"""DVC stage prepare_<data>: params data.<data>, seed -> data/<data>/ (for one family)."""

from condgen.stages import name_arg, run_stage


def main() -> None:
    from condgen import families
    from condgen.core.params import load_data, load_seed

    family = families.FAMILIES[name_arg(f.name for f in families.FAMILIES.values() if f.data)]
    config = load_data(family.name)
    summary = families.module(family, "data").prepare(
        config, load_seed(), family.data_dir, "data/raw"
    )
    print(f"prepared {family.data_dir}: {summary}")


if __name__ == "__main__":
    run_stage(main)
