"""Output folders are written whole under a temporary name and renamed at the end."""

import json

import pytest

from abm.config import ConfigError
from abm.outputs import check_writable, output_kind, whole_folder, write_json


def test_a_folder_appears_only_when_complete(tmp_path):
    out = tmp_path / "out"
    with whole_folder(out, "run") as tmp:
        (tmp / "a.txt").write_text("a")
        assert not out.exists() and tmp.parent == tmp_path and tmp.name.startswith(".out.")
    assert (out / "a.txt").read_text() == "a"
    with pytest.raises(OSError), whole_folder(tmp_path / "broken", "run") as tmp:
        (tmp / "a.txt").write_text("a")
        raise OSError(28, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing half-written


def test_a_rerun_replaces_only_an_output_of_its_kind(tmp_path):
    out = tmp_path / "out"
    with whole_folder(out, "run") as tmp:
        write_json(tmp / "manifest.json", {"package": "safecity-abm", "kind": "run"})
        (tmp / "old.txt").write_text("old")
    assert output_kind(out) == "run"
    with whole_folder(out, "run") as tmp:
        write_json(tmp / "manifest.json", {"package": "safecity-abm", "kind": "run"})
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    with pytest.raises(ConfigError, match="not an evaluation folder"), \
            whole_folder(out, "evaluation"):
        pass
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(ConfigError, match="not empty and not a run folder"), \
            whole_folder(mine, "run"):
        pass
    assert (mine / "thesis.tex").exists()
    (tmp_path / "old").mkdir()  # an output from before manifests said their kind
    (tmp_path / "old" / "manifest.json").write_text(json.dumps({"package": "safecity-abm"}))
    assert output_kind(tmp_path / "old") == ""
    with whole_folder(tmp_path / "old", "run"):
        pass
    assert not list(tmp_path.glob(".*"))


def test_file_targets_are_checked_before_any_work(tmp_path):
    (tmp_path / "f").write_text("x")
    for target, fragment in ((tmp_path / "f" / "x.md", "is not a folder"),
                             (tmp_path, "is a folder")):
        with pytest.raises(ConfigError, match=fragment):
            check_writable(target, "--write")
    assert check_writable(tmp_path / "new" / "deeper" / "x.md", "--write")
