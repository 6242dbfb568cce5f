"""DVC stage prepare_unpaired: params data.unpaired, seed -> data/unpaired/{train,test}.npz."""

from condgen.stages import run_stage


def main() -> None:
    from condgen.config import UnpairedDataConfig, load_section, load_seed
    from condgen.data.unpaired import prepare

    config = load_section(UnpairedDataConfig, "data.unpaired")
    summary = prepare(config, load_seed(), "data/unpaired", "data/raw")
    print(f"prepared unpaired data: {summary}")


if __name__ == "__main__":
    run_stage(main)
