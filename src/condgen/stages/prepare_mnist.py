"""DVC stage prepare_mnist: params data.mnist, seed -> data/mnist/{train,test}.npz."""

from condgen.stages import run_stage


def main() -> None:
    from condgen.config import MnistDataConfig, load_section, load_seed
    from condgen.data.mnist import prepare

    config = load_section(MnistDataConfig, "data.mnist")
    summary = prepare(config, load_seed(), "data/mnist", "data/raw")
    print(f"prepared MNIST ({summary['source']}): {summary['train']} train, {summary['test']} test")


if __name__ == "__main__":
    run_stage(main)
