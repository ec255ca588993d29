"""Files the user names are read with a size limit; an unreadable one is one line (issue 14).

Before: ``validate /dev/zero`` read until memory ran out (``/dev/zero`` never
ends and has ``st_size`` 0), and each reader had its own messages for a
missing file, a directory or bad bytes.
"""

from __future__ import annotations

import os

import pytest

from sim.cli.main import main
from sim.config.scenario import Scenario, ScenarioError
from sim.crm import export_file as crm
from sim.crm.mapping import read_mapping
from sim.crm.read import read_export
from sim.files import read as files
from sim.files.read import TOML_LIMIT_BYTES, read_user_file, read_user_text
from sim.sweep.spec import load_sweep
from tests.unit.test_bounds import SMALL

EXPORT = "lead_id,created_at,status\nL1,2024-01-01 10:00,open\nL2,2024-01-02 11:00,open\n"


def one_problem(call, *args) -> str:
    with pytest.raises(ScenarioError) as info:
        call(*args)
    (line,) = info.value.problems
    return line


def test_an_endless_file_is_refused_after_limit_plus_one_bytes():
    line = one_problem(read_user_file, "/dev/zero", 1000, "scenario file")
    assert line == (
        "/dev/zero: cannot read: larger than 1,000 bytes, the most a scenario file "
        "may have (a wrong file?)"
    )


def test_a_file_of_exactly_the_limit_is_read_one_byte_more_is_not(tmp_path):
    path = tmp_path / "f.toml"
    path.write_bytes(b"x" * 10)
    assert read_user_file(path, 10, "scenario file") == b"x" * 10
    assert "larger than 9 bytes" in one_problem(read_user_file, path, 9, "scenario file")


def test_missing_directory_and_bad_bytes_are_one_line_each(tmp_path):
    assert one_problem(read_user_file, tmp_path / "no.toml", 10, "sweep file") == (
        f"{tmp_path / 'no.toml'}: cannot read: no such sweep file"
    )
    assert one_problem(read_user_file, tmp_path, 10, "sweep file") == (
        f"{tmp_path}: cannot read: is a directory, expected a sweep file"
    )
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n')
    assert one_problem(read_user_text, latin, 100, "scenario file") == (
        f"{latin}: cannot read: not UTF-8 text (invalid continuation byte at byte 11)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any file")
def test_a_file_we_may_not_read(tmp_path):
    path = tmp_path / "secret.toml"
    path.write_text(SMALL)
    path.chmod(0)
    assert one_problem(read_user_file, path, 10**6, "scenario file") == (
        f"{path}: cannot read: permission denied"
    )


def test_permission_and_other_os_errors_are_one_line(monkeypatch):
    # As root every file is readable, so the errors open() raises are faked here.
    def refused(path, mode):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "open", refused, raising=False)
    assert one_problem(read_user_file, "s.toml", 10, "scenario file") == (
        "s.toml: cannot read: permission denied"
    )

    def broken(path, mode):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "open", broken, raising=False)
    assert one_problem(read_user_file, "s.toml", 10, "scenario file") == (
        "s.toml: cannot read: Input/output error"
    )


def test_a_byte_order_mark_is_not_a_syntax_error(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    assert Scenario.from_file(path).name == "small"


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "/dev/zero"],
        ["simulate", "/dev/zero"],
        ["sweep", "/dev/zero"],
        ["calibrate", "/dev/zero", "--structure", "conveyor"],
    ],
)
def test_every_command_refuses_an_endless_file_in_one_line(tmp_path, capsys, command):
    out = tmp_path / "out"
    assert main(command + ([] if command[0] == "validate" else ["--out", str(out)])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("/dev/zero: cannot read: larger than"), err
    assert not out.exists()


def test_a_scenario_too_big_is_refused(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(SMALL + "#" * TOML_LIMIT_BYTES)
    assert one_problem(Scenario.from_file, path) == (
        f"{path}: cannot read: larger than 1 MiB, the most a scenario file may have (a wrong file?)"
    )


def test_mapping_and_sweep_files_go_through_the_same_reader(tmp_path):
    assert one_problem(read_mapping, tmp_path) == (
        f"{tmp_path}: cannot read: is a directory, expected a mapping file"
    )
    assert one_problem(read_mapping, "/dev/zero").startswith("/dev/zero: cannot read: larger")
    assert one_problem(load_sweep, tmp_path / "none.toml") == (
        f"{tmp_path / 'none.toml'}: cannot read: no such sweep file"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("name = = 1\n")
    assert one_problem(read_mapping, bad).startswith("bad.toml: TOML syntax error:")


def test_an_export_over_its_limit_is_one_line_and_not_utf8_is_read_as_cp1252(tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT)
    assert len(read_export(path).leads) == 2
    monkeypatch.setattr(crm, "CSV_LIMIT_BYTES", len(EXPORT) - 1)
    assert one_problem(read_export, path) == (
        f"{path}: cannot read: larger than {len(EXPORT) - 1:,} bytes, the most a CSV export "
        "may have (a wrong file?)"
    )
    monkeypatch.undo()
    latin = tmp_path / "latin.csv"  # Excel on Windows: cp1252, not UTF-8 (issue 16)
    latin.write_bytes(EXPORT.replace("L1", "L\xe91").encode("cp1252"))
    history = read_export(latin)
    assert list(history.leads["lead_id"]) == ["L\xe91", "L2"]
    assert history.notes == ("latin.csv: not UTF-8; read as cp1252",)


def test_an_export_with_a_byte_order_mark_reads_as_before(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + EXPORT.encode())
    assert list(read_export(path).leads["lead_id"]) == ["L1", "L2"]
