"""DVC stage prepare_paired: params data.paired, seed -> data/paired/{train,test}.npz."""

from condgen.stages import run_stage


def main() -> None:
    from condgen.config import PairedDataConfig, load_section, load_seed
    from condgen.data.paired import prepare

    config = load_section(PairedDataConfig, "data.paired")
    summary = prepare(config, load_seed(), "data/paired", "data/raw")
    print(f"prepared paired data: {summary}")


if __name__ == "__main__":
    run_stage(main)
