import json
import subprocess
import sys

import pytest

from hivla import __version__
from hivla.cli.main import COMMANDS, find_command, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", *args], capture_output=True, text=True, timeout=300
    )


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in COMMANDS:
        assert cmd.name in out


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_explains_itself(name):
    proc = run_cli(*name.split(), "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout.lower() and len(proc.stdout) > 100


def test_unknown_command_suggests_the_closest():
    with pytest.raises(SystemExit, match="Did you mean 'sim list'"):
        find_command(["sim", "lst"])


def test_sim_list_json():
    proc = run_cli("sim", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "tabletop-mixed" in data["suites"] and {"arm5", "arm6", "floating", "hand", "panda", "ur5"} <= set(
        data["embodiments"]
    )
    assert data["embodiments"]["floating"]["missing"] is None  # panda's says which extra it needs, if any
    ur5 = data["embodiments"]["ur5"]
    assert "parallel gripper" in ur5["description"] and ur5["native_action"][0] == "base_vx"
    assert ur5["missing"] is None or "hivla[robots]" in ur5["missing"]
    assert "metaworld-mt10" in data["external_suites"] and "libero-spatial" in data["external_suites"]
    assert "lighting" in data["shift_axes"]
    assert {"depth", "points", "contact"} <= set(data["sensors"]) and data["sensors"]["depth"][
        "units"
    ] == "metres"


def test_sim_rollout_prints_success_and_writes_video(tmp_path):
    video = tmp_path / "roll.mp4"
    proc = run_cli(
        "sim", "rollout", "--suite", "tabletop-single", "--episodes", "2", "--video", str(video),
        "--video-episodes", "1", "--image-size", "64", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["overall"]["episodes"] == 2 and data["overall"]["success"] == 1.0
    assert "1" in data["by_chain_length"]
    from hivla.utils.video import read_mp4

    frames = read_mp4(video)
    assert frames.shape[1:] == (64, 128, 3) and len(frames) > 5


def test_sim_rollout_unknown_suite_is_a_clear_error():
    proc = run_cli("sim", "rollout", "--suite", "tabletop-singel", "--episodes", "1")
    assert proc.returncode != 0
    assert "unknown suite 'tabletop-singel'" in proc.stderr and "tabletop-single" in proc.stderr


def test_a_corrupt_file_is_one_message_not_a_traceback(tmp_path):
    from ..data.conftest import write_synthetic

    root = write_synthetic(tmp_path / "data")
    path = root / "data/chunk-000/file-001.parquet"
    path.write_bytes(path.read_bytes()[:100])
    proc = run_cli("data", "info", str(root), "--verify")
    assert proc.returncode == 2
    assert proc.stderr.startswith("hivla data info: ") and "file-001.parquet" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    debug = run_cli("data", "info", str(root), "--verify", "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "DatasetError" in debug.stderr


def test_bugs_keep_their_traceback(monkeypatch, capsys):
    import hivla.cli.sim_list as sim_list

    def broken(cfg, quiet=False):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(sim_list, "run", broken)
    with pytest.raises(ZeroDivisionError):
        main(["sim", "list"])


def test_user_errors_share_one_family():
    from hivla.checkpoints import CheckpointFormatError
    from hivla.data import DatasetError
    from hivla.data.keymap import KeyMapError
    from hivla.errors import HivlaError
    from hivla.policies import ActionSpaceError, InterjectionError, PolicyLoadError
    from hivla.registry import UnknownNameError

    for cls in (DatasetError, UnknownNameError, PolicyLoadError, ActionSpaceError, InterjectionError,
                KeyMapError, CheckpointFormatError):  # fmt: skip
        assert issubclass(cls, HivlaError)
