"""The reference files read the same with libyaml's loader as with PyYAML's Python one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from critmat.reference._common import load_yaml

DATA = Path(__file__).parents[2] / "src" / "critmat" / "reference" / "data"


@pytest.mark.parametrize("name", ["materials.yaml", "country_groups.yaml"])
def test_shipped_yaml_reads_the_same_with_either_loader(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader)


def test_load_yaml_stays_safe_and_reports_bad_yaml() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2")
