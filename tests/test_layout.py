"""The layout's rules, checked on the code itself: every module a DVC stage can load is among
its ``deps``; dvc.yaml and params.yaml name exactly the models and families of the table; no
model names outside the table; a family imports core, the shared packages and itself only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from condgen import families
from tests.conftest import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "condgen"
# What every family may import besides itself.
SHARED = ("condgen.core", "condgen.facades", "condgen.serving", "condgen.families")


def module_file(name: str) -> Path | None:
    """The file of module ``condgen....`` (a package's __init__.py), or None."""
    path = SRC.joinpath(*name.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def imported_modules(name: str) -> set[str]:
    """condgen modules ``name`` imports anywhere (inside functions too), with the packages
    Python runs on the way (``condgen.a.b`` runs ``condgen/__init__``, ``condgen/a/__init__``)."""
    tree = ast.parse(module_file(name).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from condgen.x import y` loads condgen.x.y when y is a module.
            found.update(f"{node.module}.{a.name}" for a in node.names)
    modules = set()
    for module in found:
        if module == "condgen" or module.startswith("condgen."):
            parts = module.split(".")
            for i in range(1, len(parts) + 1):
                if module_file(".".join(parts[:i])):
                    modules.add(".".join(parts[:i]))
    return modules


def closure(roots: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if module_file(r)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imported_modules(name) - seen)
    return seen


def package_modules(package: str) -> set[str]:
    folder = SRC.joinpath(*package.split("."))
    return {
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for p in folder.rglob("*.py")
    }


def stages() -> dict[str, dict]:
    """Every stage of dvc.yaml, ``foreach`` expanded: name -> {cmd, deps}."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, stage in spec.items():
        if "foreach" in stage:
            for item in stage["foreach"]:
                body = yaml.safe_dump(stage["do"]).replace("${item}", str(item))
                out[f"{name}@{item}"] = yaml.safe_load(body)
        else:
            out[name] = stage
    return out


def stage_command(stage: dict) -> tuple[str, list[str]]:
    """(module, arguments) of ``python -m condgen.stages.<x> <argument> [<argument> ...]``."""
    match = re.fullmatch(r"python -m (condgen\.stages\.\w+)((?: \S+)+)", stage["cmd"])
    assert match, f"not a generic stage command: {stage['cmd']!r}"
    return match.group(1), match.group(2).split()


# The family modules each generic stage looks up by name (condgen.families.module); the
# ``run`` stage runs the module its family's row names.
LOOKED_UP = {
    "prepare": ("config", "data"),
    "train": ("config", "train"),
    "evaluate": ("config", "evaluate"),
    "register": ("registration",),
    "inputs": ("config",),
}


def looked_up_modules(module: str, argument: str) -> set[str]:
    """The family modules the stage ``module argument`` loads through the table."""
    kind = module.rsplit(".", 1)[1]
    if kind == "run":
        family, name, _ = families.family_stage(argument)
        return {f"condgen.{family.name}.{name}"}
    by_family = kind in ("prepare", "inputs")
    family = families.FAMILIES[argument] if by_family else families.family_of(argument)
    return {f"condgen.{family.name}.{part}" for part in LOOKED_UP[kind]}


def covered(path: Path, deps: list) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    names = [d if isinstance(d, str) else next(iter(d)) for d in deps]
    return any(relative == d or relative.startswith(d.rstrip("/") + "/") for d in names)


@pytest.mark.parametrize("name", sorted(stages()))
def test_every_module_a_stage_can_load_is_among_its_deps(name):
    stage = stages()[name]
    module, arguments = stage_command(stage)
    looked_up = {m for argument in arguments for m in looked_up_modules(module, argument)}
    loaded = closure({module, *looked_up})
    missing = sorted(
        str(module_file(m).relative_to(ROOT))
        for m in loaded
        if not covered(module_file(m), stage["deps"])
    )
    assert not missing, f"{name} runs code its deps do not list: {missing}"


def test_the_dependency_check_catches_a_missing_folder():
    stage = stages()["train@gan"]
    deps = [d for d in stage["deps"] if d != "src/condgen/core"]
    loaded = closure({"condgen.stages.train", *looked_up_modules("condgen.stages.train", "gan")})
    assert any(not covered(module_file(m), deps) for m in loaded)


def test_dvc_yaml_names_exactly_the_tables_models_and_families():
    commands = [stage_command(s) for s in stages().values()]
    by_kind: dict[str, set[str]] = {}
    for module, arguments in commands:
        kind = module.rsplit(".", 1)[1]
        assert kind == "inputs" or len(arguments) == 1, arguments
        by_kind.setdefault(kind, set()).update(arguments)
    for kind in ("train", "evaluate", "register"):
        assert by_kind[kind] == set(families.MODELS), kind
    assert by_kind["prepare"] == {f.name for f in families.FAMILIES.values() if f.data}
    assert by_kind["inputs"] == {f.name for f in families.FAMILIES.values() if f.inputs}
    own = {name for f in families.FAMILIES.values() for name, _ in f.stages}
    assert by_kind["run"] == own
    names = set(stages())
    for family in families.FAMILIES.values():
        if family.data:
            assert family.data_stage in names
        assert own >= {n for n, _ in family.stages} and all(n in names for n, _ in family.stages)


def test_params_yaml_names_exactly_the_tables_models_and_data():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert set(params["train"]) == set(families.MODELS)
    assert set(params["data"]) == {f.data for f in families.FAMILIES.values() if f.data}


def test_every_family_provides_its_modules():
    for family in families.FAMILIES.values():
        modules = {m.rsplit(".", 1)[1] for m in package_modules(f"condgen.{family.name}")}
        if families.models_of(family.name):
            assert {"config", "train", "evaluate", "registration"} <= modules, family.name
        if family.data:
            assert {"config", "data"} <= modules, family.name
        for _, target in family.stages:
            module, function = target.split(":")
            assert (
                module in modules
                and f"def {function}(" in (PACKAGE / family.name / f"{module}.py").read_text()
            )


def test_no_model_names_outside_the_table():
    names = "|".join(map(re.escape, families.MODELS))
    pattern = re.compile(rf"""["']({names})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "families.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "model names belong in condgen/families.py:\n" + "\n".join(found)


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_a_family_imports_core_shared_packages_and_itself_only(family):
    own = f"condgen.{family}"
    for module in package_modules(own):
        for imported in imported_modules(module):
            allowed = (own, "condgen", *SHARED)
            assert imported in allowed or imported.startswith(
                tuple(f"{a}." for a in allowed if a != "condgen")
            ), f"{module} imports {imported}"


def test_the_make_targets_of_the_readme_have_their_recipes(tmp_path):
    """`make -n` on a machine without the virtual environment: every README target resolves
    (a lost rule would end a fresh clone's first command with "No rule to make target")."""
    import subprocess

    venv = tmp_path / "no-venv-yet"
    for target in ("pipeline", "test", "install", "server", "check-gpu-extra"):
        result = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target, f"VENV={venv}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"make {target}: {result.stderr}"
        assert f"{venv}/bin/python -m pip install" in result.stdout, (target, result.stdout)
        assert "npm ci --prefix plots" in result.stdout, (target, result.stdout)
