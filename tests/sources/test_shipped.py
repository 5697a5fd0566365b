"""The shipped-data manifest: its form, each shipped file, and installing them into a store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from critmat.sources.registry import READERS
from critmat.sources.shipped import (
    MANIFEST,
    ShippedDataError,
    read_manifest,
    shipped_releases,
)

ENTRY = """
[[release]]
file = "tiny.csv"
kind = "usgs-mcs"
provides = {{ stage_production = "USGS MCS 2099" }}
publisher = "U.S. Geological Survey"
licence = "public domain"
source = "https://doi.org/10.0000/example"
snapshot = "someone/somewhere @ 0123 : tiny.csv"
sha256 = "{sha}"
"""


def _manifest(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_entry_names_its_file_in_the_manifest_folder_and_checks_its_sha256(tmp_path: Path):
    (tmp_path / "tiny.csv").write_bytes(b"a,b\n1,2\n")
    good = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    (entry,) = read_manifest(_manifest(tmp_path, ENTRY.format(sha=good)))
    assert entry.path == tmp_path / "tiny.csv"
    assert dict(entry.provides) == {"stage_production": "USGS MCS 2099"}
    assert entry.verified_path() == tmp_path / "tiny.csv"
    (tmp_path / "tiny.csv").write_bytes(b"a,b\n1,3\n")  # the file changed after packaging
    with pytest.raises(ShippedDataError, match="the manifest says"):
        entry.verified_path()
    (tmp_path / "tiny.csv").unlink()
    with pytest.raises(ShippedDataError, match="is missing"):
        entry.verified_path()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ENTRY.replace('licence = "public domain"\n', ""), "missing licence"),
        (ENTRY.replace("stage_production =", "stages ="), "unknown datasets"),
        (ENTRY + 'colour = "red"\n', "unknown fields colour"),
        (ENTRY + ENTRY.replace("tiny.csv", "other.csv"), "provided by both tiny.csv and other"),
        ("[[release]\n", "cannot read the manifest"),
    ],
)
def test_a_malformed_manifest_is_refused(tmp_path: Path, text: str, message: str):
    with pytest.raises(ShippedDataError, match=message):
        read_manifest(_manifest(tmp_path, text.format(sha="0" * 64)))


def test_the_manifest_is_package_data():
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"sources/shipped/*"' in pyproject
    assert MANIFEST.is_file() and (MANIFEST.parent / "LICENSES.md").is_file()


@pytest.mark.parametrize("entry", shipped_releases(), ids=lambda e: e.file)
def test_every_shipped_file_is_intact_and_gives_what_its_entry_says(entry):
    from critmat.pipeline import read_shipped

    assert entry.kind in READERS
    batches = read_shipped(entry)  # sha256, provides and the importer's own checks
    assert {(b.dataset, b.series) for b in batches} == set(entry.provides.items())
    assert all(b.sha256 == entry.sha256 and len(b.table) > 0 for b in batches)


@pytest.mark.parametrize(
    "entry", [e for e in shipped_releases() if e.original_sha256], ids=lambda e: e.file
)
def test_a_gzipped_shipped_file_holds_the_original_unchanged(entry):
    import gzip

    original = gzip.decompress(entry.path.read_bytes())
    assert hashlib.sha256(original).hexdigest() == entry.original_sha256


def test_installing_the_shipped_files_twice_changes_nothing(tmp_path: Path):
    from critmat.config import Settings
    from critmat.pipeline import install_shipped
    from critmat.store import open_store

    settings = Settings(data_dir=tmp_path)
    first = install_shipped(settings)
    provided = {pair for entry in shipped_releases() for pair in entry.provides.items()}
    assert {(r.dataset, r.release.series) for r in first} == provided
    assert {r.status for r in first} == {"imported"}
    with open_store(settings.store_path, read_only=True) as store:
        key = store.release_key()
    again = install_shipped(settings)
    assert {r.status for r in again} == {"unchanged"}
    with open_store(settings.store_path, read_only=True) as store:
        assert store.release_key() == key
        for entry in shipped_releases():
            for dataset, series in entry.provides.items():
                release = store.require_release(dataset, series)
                assert release.sha256 == entry.sha256
                assert release.origin.startswith(f"shipped with critmat: {entry.file}")


def test_a_damaged_shipped_file_is_refused_and_the_store_keeps_its_releases(tmp_path: Path):
    from critmat.config import Settings
    from critmat.pipeline import install_shipped
    from critmat.store import open_store

    usgs = next(e for e in shipped_releases() if e.file.startswith("MCS2026"))
    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / usgs.file).write_bytes(usgs.path.read_bytes())
    text = ENTRY.replace("tiny.csv", usgs.file).replace("USGS MCS 2099", "USGS MCS 2026")
    good = read_manifest(_manifest(folder, text.format(sha=usgs.sha256)))
    settings = Settings(data_dir=tmp_path / "data")
    assert [r.status for r in install_shipped(settings, entries=good)] == ["imported"]
    # a newer entry for the series whose file's bytes are not those the manifest names
    damaged = folder / "damaged.csv.gz"
    damaged.write_bytes(usgs.path.read_bytes()[:-10])
    text = ENTRY.replace("tiny.csv", damaged.name).replace("USGS MCS 2099", "USGS MCS 2026")
    bad = read_manifest(_manifest(folder, text.format(sha="f" * 64)))
    with pytest.raises(ShippedDataError, match="the manifest says"):
        install_shipped(settings, entries=bad)
    with open_store(settings.store_path, read_only=True) as store:
        assert store.require_release("stage_production").sha256 == usgs.sha256
        assert store.row_count("stage_production") == 2318


def test_an_entry_that_promises_another_series_is_refused(tmp_path: Path):
    from critmat.pipeline import read_shipped

    usgs = next(e for e in shipped_releases() if e.file.startswith("MCS2026"))
    (tmp_path / usgs.file).write_bytes(usgs.path.read_bytes())
    text = ENTRY.replace("tiny.csv", usgs.file)  # says USGS MCS 2099
    (entry,) = read_manifest(_manifest(tmp_path, text.format(sha=usgs.sha256)))
    with pytest.raises(ShippedDataError, match="the manifest says"):
        read_shipped(entry)
