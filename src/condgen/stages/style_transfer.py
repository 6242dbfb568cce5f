"""DVC stage style_transfer: params style, seed -> reports/style/ (images, sheet, losses)."""

from condgen.stages import run_stage


def main() -> None:
    from condgen.config import StyleConfig, load_section, load_seed
    from condgen.training.style import run

    metrics = run(load_section(StyleConfig, "style"), load_seed(), "reports/style")
    for name, m in metrics.items():
        print(
            f"stylised {name}: total loss {m['first_total']:.4g} -> {m['last_total']:.4g} "
            f"({m['loss_ratio']:.0f}x) over {m['steps']} steps"
        )


if __name__ == "__main__":
    run_stage(main)
