"""DVC stage inputs: the user's own files each family reads -> data/inputs/<family>.json.

``python -m condgen.stages.inputs <family> [<family> ...]``. Runs on every ``dvc repro`` (one
process for every family: it is the only work a repro with nothing changed does); rewrites a
family's file only when its files changed, so the stages that depend on it re-run exactly then
(see :mod:`condgen.core.inputs`).
"""

from condgen.stages import name_args, run_stage


def main() -> None:
    import json
    from pathlib import Path

    from condgen import families
    from condgen.core.files import write_atomic
    from condgen.core.inputs import fingerprint
    from condgen.core.params import load_section

    names = name_args(f.name for f in families.FAMILIES.values() if f.inputs)
    for family in (families.FAMILIES[name] for name in names):
        config_module = families.module(family, "config")
        config = load_section(config_module.INPUTS_CONFIG, family.inputs)
        files = config_module.external_files(config)
        record = {"section": family.inputs, **fingerprint(files, "data/raw/.input-hashes.json")}
        out = Path(family.inputs_file)
        text = json.dumps(record, indent=2) + "\n"
        if not out.is_file() or out.read_text() != text:
            out.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(out, text.encode())
        print(f"{family.inputs}: {record['files']} file(s) of yours, md5 {record['md5']}")


if __name__ == "__main__":
    run_stage(main)
