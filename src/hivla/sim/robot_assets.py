"""Real robot models that a registry package ships with its meshes, read at run time.

Both come with the extra ``hivla[robots]``: the Franka Panda's MJCF from ``gymnasium-robotics`` and
the Universal Robots UR5's URDF from ``example-robot-data`` (:func:`ur5_mjcf`).

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
import importlib.metadata
import importlib.util
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


# ---- the Universal Robots UR5 (example-robot-data) -------------------------------------------------
UR5_DISTRIBUTION = "example-robot-data"
UR5_VERSION = "6.0.0"
UR5_DIR = "cmeel.prefix/share/example-robot-data/robots/ur_description"
UR5_URDF = "urdf/ur5_robot.urdf"  # the real UR5's limits (+-2 pi; the elbow +-pi)
UR5_TOOL_LINK = "tool0"  # the tool flange: its z axis points out of the flange
UR5_BASE_LINK = "base"  # the frame the UR controller's Cartesian commands (speedL) are given in


def _ur5_dir() -> Path:
    """The ``ur_description`` folder of the installed ``example-robot-data``, found from the
    distribution's metadata (its files are under the cmeel prefix, not a Python package)."""
    try:
        dist = importlib.metadata.distribution(UR5_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RobotAssetsMissingError(
            f"the ur5 embodiment needs the package {UR5_DISTRIBUTION!r} for the UR5's URDF and meshes, "
            f"which is not installed; install the extra: pip install 'hivla[{ROBOTS_EXTRA}]' "
            f"(from a checkout: pip install -e '.[{ROBOTS_EXTRA}]')"
        ) from None
    root = Path(str(dist.locate_file(UR5_DIR)))
    needed = [root / UR5_URDF, root / "meshes/ur5/collision/base.stl"]
    if not all(p.is_file() for p in needed):
        raise RobotAssetsMissingError(
            f"the installed {UR5_DISTRIBUTION} {dist.version} has no UR5 model at {root}; expected the "
            f"layout of {UR5_DISTRIBUTION} {UR5_VERSION}; install it: pip install -e '.[{ROBOTS_EXTRA}]'"
        )
    return root


def ur5_urdf() -> Path:
    """The UR5's URDF file in the installed ``example-robot-data``. Raises RobotAssetsMissingError."""
    return _ur5_dir() / UR5_URDF


def ur5_missing_reason() -> str | None:
    """None when the UR5's model can be read, else why not (for skips and ``hivla sim list``)."""
    try:
        _ur5_dir()
    except RobotAssetsMissingError as err:
        return str(err)
    return None


@dataclass(frozen=True)
class UrdfJoint:
    """One joint of a URDF: its frame in the parent link (xyz, rpy), axis and limits."""

    name: str
    kind: str  # revolute | continuous | fixed | ...
    parent: str
    child: str
    xyz: tuple[float, ...]
    rpy: tuple[float, ...]
    axis: tuple[float, ...] = (1.0, 0.0, 0.0)
    lower: float = 0.0
    upper: float = 0.0
    effort: float = 0.0


def _floats(text: str | None, default: str) -> tuple[float, ...]:
    return tuple(float(v) for v in (text or default).split())


def rpy_to_quat(rpy: tuple[float, ...]) -> np.ndarray:
    """URDF roll-pitch-yaw (fixed axes x, then y, then z) -> MuJoCo quaternion (w, x, y, z)."""
    (r, p, y), half = rpy, 0.5
    cr, sr, cp, sp = np.cos(r * half), np.sin(r * half), np.cos(p * half), np.sin(p * half)
    cy, sy = np.cos(y * half), np.sin(y * half)
    return np.array(
        [
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        ]
    )


def _origin(elem: ET.Element | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(xyz, rpy) of an element's ``<origin>`` (zeros when it has none)."""
    origin = elem.find("origin") if elem is not None else None
    attrs = origin.attrib if origin is not None else {}
    return _floats(attrs.get("xyz"), "0 0 0"), _floats(attrs.get("rpy"), "0 0 0")


def parse_urdf(path: Path) -> tuple[dict[str, UrdfJoint], dict[str, ET.Element]]:
    """(joints by child link, link elements by name) of a URDF file."""
    robot = ET.parse(path).getroot()
    joints = {}
    for j in robot.findall("joint"):
        axis, limit = j.find("axis"), j.find("limit")
        lim = limit.attrib if limit is not None else {}
        xyz, rpy = _origin(j)
        joint = UrdfJoint(
            name=j.get("name", ""),
            kind=j.get("type", ""),
            parent=j.find("parent").get("link", ""),  # type: ignore[union-attr]
            child=j.find("child").get("link", ""),  # type: ignore[union-attr]
            xyz=xyz,
            rpy=rpy,
            axis=_floats(axis.get("xyz") if axis is not None else None, "1 0 0"),
            lower=float(lim.get("lower", 0.0)),
            upper=float(lim.get("upper", 0.0)),
            effort=float(lim.get("effort", 0.0)),
        )
        joints[joint.child] = joint
    return joints, {link.get("name", ""): link for link in robot.findall("link")}


def _fmt(values) -> str:
    return " ".join(f"{float(v):.9g}" for v in values)


def _mesh_file(uri: str, share: Path) -> Path:
    """A URDF mesh's file: ``package://NAME/...`` lies under the cmeel prefix's ``share/NAME``."""
    return share / uri.removeprefix("package://") if uri.startswith("package://") else Path(uri)


def _urdf_link_body(link: ET.Element, prefix: str, share: Path, asset: ET.Element) -> ET.Element:
    """A MuJoCo body of a URDF link (gravity-compensated): its inertial and its collision meshes, which
    both show and collide (the visual meshes are COLLADA, which MuJoCo does not read); each mesh is
    declared in ``asset``."""
    name = link.get("name", "")
    body = ET.Element("body", name=f"{prefix}_{name}", gravcomp="1")
    inertial = link.find("inertial")
    mass = inertial.find("mass") if inertial is not None else None
    if inertial is not None and mass is not None and float(mass.get("value", 0)) > 0:
        inertia = inertial.find("inertia")
        assert inertia is not None
        full = [float(inertia.get(k, 0.0)) for k in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")]
        xyz, _ = _origin(inertial)
        ET.SubElement(body, "inertial", pos=_fmt(xyz), mass=mass.get("value", "0"), fullinertia=_fmt(full))
    for k, col in enumerate(link.findall("collision")):
        mesh = col.find("geometry/mesh")
        if mesh is None:
            continue  # the URDF's 1 cm box at ee_link stands for nothing real
        mesh_name = f"{prefix}_{name}_{k}"
        ET.SubElement(asset, "mesh", name=mesh_name, file=str(_mesh_file(mesh.get("filename", ""), share)))
        xyz, rpy = _origin(col)
        geom = {"pos": _fmt(xyz), "quat": _fmt(rpy_to_quat(rpy)), "rgba": "0.7 0.72 0.75 1", **LINK_COLLISION}
        ET.SubElement(body, "geom", name=mesh_name, type="mesh", mesh=mesh_name, group="1", mass="0", **geom)
    return body


def _child_frame(parent: ET.Element, joint: UrdfJoint, tag: str = "body", **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, pos=_fmt(joint.xyz), quat=_fmt(rpy_to_quat(joint.rpy)), **attrs)


@functools.lru_cache(maxsize=4)
def ur5_mjcf(
    base_pos: str, base_yaw: float, damping: tuple[float, ...], armature: float, tool: str
) -> tuple[str, str, list[str], list[float]]:
    """(top-level MJCF sections: the mesh assets and a contact exclusion, the arm's body tree with ``tool``
    on its flange, its joint names, their torque limits in N m) of the UR5 from the URDF that ``example-robot-data``
    ships, standing at ``base_pos`` turned ``base_yaw`` (rad) on the table, its six joints with ``damping``
    (N m s/rad) and ``armature``. The tool flange (``tool0``) becomes the body ``ur5_flange`` holding
    ``tool`` (the MJCF of a hand whose tool axis is its +z), the controller's base frame (``base``) a site
    ``ur5_base_frame``. Raises RobotAssetsMissingError."""
    root = _ur5_dir()
    joints, links = parse_urdf(ur5_urdf())
    share, prefix = root.parents[2], "ur5"  # share/ holds the package:// folders
    asset = ET.Element("asset")
    children: dict[str, list[UrdfJoint]] = {}
    for joint in joints.values():
        children.setdefault(joint.parent, []).append(joint)
    base = _urdf_link_body(links["base_link"], prefix, share, asset)
    base.set("pos", base_pos)
    base.set("euler", f"0 0 {base_yaw}")
    names: list[str] = []
    efforts: list[float] = []
    todo = [("base_link", base)]
    while todo:
        link, body = todo.pop()
        for joint in children.get(link, []):
            if joint.child == UR5_TOOL_LINK:
                _child_frame(body, joint, name=f"{prefix}_flange").append(ET.fromstring(tool.strip()))
            elif joint.child == UR5_BASE_LINK:
                _child_frame(body, joint, "site", name=f"{prefix}_base_frame", size="0.005", rgba="0 0 0 0")
            elif joint.kind in ("revolute", "continuous"):
                child = _urdf_link_body(links[joint.child], prefix, share, asset)
                child.set("pos", _fmt(joint.xyz))
                child.set("quat", _fmt(rpy_to_quat(joint.rpy)))
                body.append(child)
                name = f"{prefix}_j{len(names) + 1}"
                jnt = ET.Element("joint", name=name, type="hinge", axis=_fmt(joint.axis),
                                 range=f"{joint.lower:.9g} {joint.upper:.9g}",
                                 damping=str(damping[len(names)]), armature=str(armature))  # fmt: skip
                child.insert(0, jnt)
                names.append(name)
                efforts.append(joint.effort)
                todo.append((joint.child, child))
    if len(names) != 6 or base.find(f".//body[@name='{prefix}_flange']") is None:
        raise RobotAssetsMissingError(
            f"{root / UR5_URDF} is not the six-joint UR5 chain with a tool0 flange that {UR5_DISTRIBUTION} "
            f"{UR5_VERSION} ships; install that version: pip install -e '.[{ROBOTS_EXTRA}]'"
        )
    sections = ET.tostring(asset, encoding="unicode")
    sections += f'<contact><exclude body1="world" body2="{prefix}_base_link"/></contact>'
    return sections, ET.tostring(base, encoding="unicode"), names, efforts
