"""Real robot models that a registry package ships with its meshes, read at run time.

The Franka Emika Panda comes from ``gymnasium-robotics`` (MIT; its Franka model is Apache-2.0, from
Vikash Kumar's ``franka`` MJCF), the extra ``hivla[robots]``. Only its asset files are read: the
package's Python code is never imported (``importlib.util.find_spec`` locates it), and its meshes
stay where pip put them. :func:`panda_mjcf` turns its kinematic chain into the fragments the
tabletop scene takes (``scene_xml.scene_xml``): names the env expects (``finger_left``/``finger_right``
bodies, joints and geoms, the ``ee`` site between the finger pads, the ``wrist`` camera), gravity
compensation (as the Panda's own controller does), collision bits that let the links touch the table,
the objects and the drawer but not each other, and the real (unscaled) finger meshes.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

from hivla.errors import HivlaError

ROBOTS_EXTRA = "robots"
ROBOTS_PACKAGE = "gymnasium_robotics"
PANDA_DIR = "envs/assets/kitchen_franka/franka_assets"

# Link collision geoms: contype 4 / conaffinity 3 touch the world and objects (bit 1) and the drawer
# (bit 2) but not one another (4 & 3 == 0); the fingers keep the hand's bits (scene_xml._OBJ).
LINK_COLLISION = {"contype": "4", "conaffinity": "3"}
FINGER_COLLISION = {
    "contype": "1",
    "conaffinity": "1",
    "friction": "1.6 0.02 0.001",
    "condim": "4",
    "rgba": "0.5 0.6 0.7 0",
    "group": "3",
}


class RobotAssetsMissingError(HivlaError, ImportError):
    """A robot model's package (an optional extra) is not installed or lacks the expected files."""


def package_dir(package: str | None = None) -> Path:
    """Where ``package`` (default: the robot models' package) is installed, found without importing
    it. Raises RobotAssetsMissingError."""
    package = package or ROBOTS_PACKAGE
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RobotAssetsMissingError(
            f"the real robot embodiments need the package {package!r} for its robot models and meshes, "
            f"which is not installed; install the extra: pip install 'hivla[{ROBOTS_EXTRA}]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def missing_reason() -> str | None:
    """None when the robot models can be read, else why not (for skips and ``hivla sim list``)."""
    try:
        _panda_dir()
    except RobotAssetsMissingError as err:
        return str(err)
    return None


def _panda_dir() -> Path:
    root = package_dir() / PANDA_DIR
    needed = [root / "chain.xml", root / "assets.xml", root / "meshes/visual/finger.stl"]
    if not all(p.is_file() for p in needed):
        raise RobotAssetsMissingError(
            f"the installed {ROBOTS_PACKAGE} has no Franka Panda model at {root}; expected the layout of "
            f"gymnasium-robotics 1.4; install it: pip install 'hivla[{ROBOTS_EXTRA}]'"
        )
    return root


def _strip(elem: ET.Element, attrs: tuple[str, ...] = ("user",)) -> None:
    for e in elem.iter():
        for a in attrs:
            e.attrib.pop(a, None)


def _finger(body: ET.Element, side: str, mesh_quat: str) -> None:
    """Rebuild a finger body: its real-size visual mesh and its collision hull as the one finger geom."""
    joint = body.find("joint")
    assert joint is not None
    for child in list(body):
        if child.tag == "geom":
            body.remove(child)
    body.set("name", f"finger_{side}")
    body.set("gravcomp", "1")
    body.attrib.pop("childclass", None)
    axis = joint.get("axis", "0 1 0")
    body.remove(joint)
    ET.SubElement(
        body,
        "joint",
        name=f"finger_{side}",
        type="slide",
        axis=axis,
        range="0 0.04",
        damping="2",
        armature="0.01",
    )
    common = {"type": "mesh", "quat": mesh_quat}
    ET.SubElement(body, "geom", mesh="panda_real_finger_vis", contype="0", conaffinity="0", group="1",
                  rgba="0.25 0.25 0.28 1", mass="0", **common)  # fmt: skip
    ET.SubElement(
        body, "geom", name=f"finger_{side}", mesh="panda_real_finger_col", **FINGER_COLLISION, **common
    )


@functools.lru_cache(maxsize=4)
def panda_mjcf(base_pos: str, damping: tuple[float, ...], armature: float) -> tuple[str, str, list[str]]:
    """(top-level MJCF sections: assets and defaults, the arm's body tree, its joint names) of the
    Panda standing at ``base_pos`` on the table, its seven joints with ``damping`` (N m s/rad) and
    ``armature`` (the motors' reflected inertia). Raises RobotAssetsMissingError."""
    root = _panda_dir()
    assets = ET.parse(root / "assets.xml").getroot()
    chain = ET.parse(root / "chain.xml").getroot()
    mesh_dir = root / "meshes"
    asset = copy.deepcopy(assets.find("asset"))
    default = copy.deepcopy(assets.find("default"))
    assert asset is not None and default is not None
    for mesh in asset.findall("mesh"):
        mesh.set("name", "panda_" + mesh.get("name", ""))
        mesh.set("file", str(mesh_dir / mesh.get("file", "")))
    ET.SubElement(asset, "mesh", name="panda_real_finger_vis", file=str(mesh_dir / "visual/finger.stl"))
    ET.SubElement(asset, "mesh", name="panda_real_finger_col", file=str(mesh_dir / "collision/finger.stl"))
    _strip(default)
    base = copy.deepcopy(chain.find("body"))
    assert base is not None
    _strip(base)
    base.set("pos", base_pos)
    joints: list[str] = []
    for body in base.iter("body"):
        name = body.get("name", "")
        if "finger" in name:
            continue
        body.set("name", name.replace("panda0_", "panda_"))
        body.set("gravcomp", "1")
        for geom in body.findall("geom"):
            if geom.get("mesh"):
                geom.set("mesh", "panda_" + geom.get("mesh", ""))
            if geom.get("class") == "panda_col":
                geom.attrib.update(LINK_COLLISION)
        for joint in body.findall("joint"):
            joint.set("damping", str(damping[len(joints)]))
            joint.set("armature", str(armature))
            joint.set("name", f"panda_j{len(joints) + 1}")
            joints.append(joint.get("name", ""))
    flange = next(b for b in base.iter("body") if b.get("name") == "panda_link7")
    left, right = (b for b in flange.findall("body") if "finger" in b.get("name", ""))
    _finger(left, "left", "1 0 0 0")
    _finger(right, "right", "0 0 0 1")
    # The grasp point between the finger pads (the Panda's TCP) and a wrist camera on the hand.
    frame = ET.SubElement(flange, "body", name="panda_hand_frame", pos="0 0 0.107", euler="0 0 -0.785398")
    ET.SubElement(frame, "site", name="ee", pos="0 0 0.1034", size="0.004", rgba="1 0 0 0")
    ET.SubElement(frame, "camera", name="wrist", pos="-0.07 0 0.01", xyaxes="0 1 0 0.97 0 -0.25", fovy="75")
    sections = ET.tostring(asset, encoding="unicode") + ET.tostring(default, encoding="unicode")
    sections += '<contact><exclude body1="world" body2="panda_link0"/></contact>'
    return sections, ET.tostring(base, encoding="unicode"), joints
