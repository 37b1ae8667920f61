"""MJCF text for the tabletop scene (table, object pool, drawer, button, cameras, lights) and the
shared parallel-jaw hand that every embodiment carries."""

from __future__ import annotations

from hivla.sim import catalogue as cat

# Collision groups: bit 1 = world/objects/hand, bit 2 = drawer body (does not touch its cabinet).
_OBJ = 'contype="1" conaffinity="1"'


# Visual-only geoms (no contacts) of the human-hand look.
_VISUAL = 'contype="0" conaffinity="0" group="1"'


def human_look_xml(skin: str, sleeve: str) -> tuple[str, str]:
    """The visual-only geoms that make the parallel-jaw hand look like a bigger human hand with a
    forearm in a sleeve: (geoms of the hand body, geoms of each finger body). They do not collide,
    so the hand grasps exactly as the robot's does."""
    palm = (
        f'<geom type="box" size="0.034 0.075 0.03" pos="0 0 0.02" rgba="{skin}" {_VISUAL}/>'
        f'<geom type="capsule" fromto="0 0 -0.01 0 0 -0.2" size="0.04" rgba="{sleeve}" {_VISUAL}/>'
        f'<geom type="sphere" size="0.03" pos="0.03 0.05 0.03" rgba="{skin}" {_VISUAL}/>'
    )
    finger = f'<geom type="capsule" fromto="0 0 -0.02 0 0 0.035" size="0.016" rgba="{skin}" {_VISUAL}/>'
    return palm, finger


def hand_xml(pos: str = "0 0 0", quat: str = "1 0 0 0", look: tuple[str, str] = ("", "")) -> str:
    """The parallel-jaw hand. Frame: tool axis +z (fingertips at z=0.1), fingers open along +-y.

    Site ``ee`` is the grasp point between the finger pads; camera ``wrist`` looks along the tool.
    ``look``: extra visual-only geoms of the hand body and of each finger body (:func:`human_look_xml`).
    """
    finger = 'type="box" size="0.012 0.005 0.03" friction="1.6 0.02 0.001" condim="4" rgba="0.25 0.25 0.28 1"'
    palm_look, finger_look = look
    return f"""
      <body name="hand" pos="{pos}" quat="{quat}" gravcomp="1">
        <inertial pos="0 0 0.03" mass="0.4" diaginertia="0.001 0.001 0.001"/>
        <geom name="palm" type="box" size="0.022 0.06 0.02" pos="0 0 0.02" rgba="0.3 0.3 0.33 1" {_OBJ}/>{palm_look}
        <site name="ee" pos="0 0 0.08" size="0.004" rgba="1 0 0 0"/>
        <camera name="wrist" pos="-0.07 0 0.0" xyaxes="0 1 0 0.97 0 -0.25" fovy="75"/>
        <body name="finger_left" pos="0 0 0.07" gravcomp="1">
          <inertial pos="0 0.005 0" mass="0.03" diaginertia="1e-5 1e-5 1e-5"/>
          <joint name="finger_left" type="slide" axis="0 1 0" range="0 0.045" damping="2" armature="0.01"/>
          <geom name="finger_left" pos="0 0.005 0" {finger} {_OBJ}/>{finger_look}
        </body>
        <body name="finger_right" pos="0 0 0.07" gravcomp="1">
          <inertial pos="0 -0.005 0" mass="0.03" diaginertia="1e-5 1e-5 1e-5"/>
          <joint name="finger_right" type="slide" axis="0 -1 0" range="0 0.045" damping="2" armature="0.01"/>
          <geom name="finger_right" pos="0 -0.005 0" {finger} {_OBJ}/>{finger_look}
        </body>
      </body>"""


HAND_ACTUATORS = """
    <position name="finger_left" joint="finger_left" kp="300" ctrlrange="0 0.045" forcerange="-12 12"/>
    <position name="finger_right" joint="finger_right" kp="300" ctrlrange="0 0.045" forcerange="-12 12"/>"""


def _object_xml(slot: cat.ObjectSlot, index: int) -> str:
    park = f"{2.0 + 0.3 * index:.2f} 2.0 -1.0"
    head = f'<body name="{slot.slot}" pos="{park}"><freejoint name="{slot.slot}"/>'
    common = f'friction="1.0 0.01 0.001" condim="4" {_OBJ}'
    if slot.shape == "cube":
        sx, sy, sz = slot.size
        geoms = f'<geom name="{slot.slot}" type="box" size="{sx} {sy} {sz}" mass="{slot.mass}" {common}/>'
    elif slot.shape == "cylinder":
        r, h = slot.size
        geoms = f'<geom name="{slot.slot}" type="cylinder" size="{r} {h}" mass="{slot.mass}" {common}/>'
    elif slot.shape == "plate":
        r, _ = slot.size
        geoms = f'<geom name="{slot.slot}" type="cylinder" size="{r} 0.005" pos="0 0 0.005" mass="{slot.mass}" {common}/>'
    else:  # bowl: a floor disc and a ring of wall boxes
        r, wall = slot.size
        parts = [
            f'<geom name="{slot.slot}" type="cylinder" size="{r} 0.004" pos="0 0 0.004" mass="{slot.mass / 2}" {common}/>'
        ]
        n = 12
        import math

        for k in range(n):
            a = 2 * math.pi * k / n
            x, y = (r - 0.004) * math.cos(a), (r - 0.004) * math.sin(a)
            half_len = r * math.tan(math.pi / n) + 0.002
            parts.append(
                f'<geom name="{slot.slot}_wall{k}" type="box" size="0.004 {half_len:.4f} {wall / 2}" '
                f'pos="{x:.4f} {y:.4f} {wall / 2}" euler="0 0 {a:.4f}" mass="{slot.mass / (2 * n):.4f}" {common}/>'
            )
        geoms = "".join(parts)
    return head + geoms + "</body>"


def _drawer_xml() -> str:
    x, y = cat.DRAWER_POS
    wall = 'rgba="0.55 0.4 0.25 1" contype="1" conaffinity="1"'
    drawer = 'rgba="0.7 0.55 0.35 1" contype="2" conaffinity="1"'
    return f"""
    <body name="cabinet" pos="{x} {y} 0">
      <geom name="cabinet_top" type="box" size="0.09 0.08 0.008" pos="0 0 0.108" {wall}/>
      <geom name="cabinet_left" type="box" size="0.09 0.008 0.054" pos="0 0.072 0.054" {wall}/>
      <geom name="cabinet_right" type="box" size="0.09 0.008 0.054" pos="0 -0.072 0.054" {wall}/>
      <geom name="cabinet_back" type="box" size="0.008 0.08 0.054" pos="0.082 0 0.054" {wall}/>
      <body name="drawer" pos="0 0 0">
        <joint name="drawer" type="slide" axis="-1 0 0" range="0 {cat.DRAWER_TRAVEL}" damping="8" frictionloss="0.3"/>
        <geom name="drawer_box" type="box" size="0.08 0.062 0.045" pos="0 0 0.05" mass="0.3" {drawer}/>
        <geom name="drawer_front" type="box" size="0.006 0.07 0.05" pos="-0.086 0 0.052" mass="0.05" {drawer}/>
        <geom name="handle_post_l" type="box" size="0.03 0.005 0.006" pos="-0.122 0.045 0.055" mass="0.01" {drawer}/>
        <geom name="handle_post_r" type="box" size="0.03 0.005 0.006" pos="-0.122 -0.045 0.055" mass="0.01" {drawer}/>
        <geom name="handle" type="cylinder" size="0.007 0.05" pos="-0.157 0 0.055" euler="1.5708 0 0" mass="0.01" rgba="0.2 0.2 0.2 1" contype="2" conaffinity="1"/>
      </body>
    </body>"""


def _button_xml() -> str:
    x, y = cat.BUTTON_POS
    return f"""
    <body name="button_base" pos="{x} {y} 0">
      <geom name="button_base" type="box" size="0.04 0.04 0.02" pos="0 0 0.02" rgba="0.3 0.3 0.3 1" {_OBJ}/>
      <body name="button" pos="0 0 0.04">
        <joint name="button" type="slide" axis="0 0 1" range="-{cat.BUTTON_TRAVEL} 0" stiffness="60" springref="0" damping="1"/>
        <geom name="button" type="cylinder" size="0.025 0.01" pos="0 0 0.01" mass="0.02" rgba="0.8 0.1 0.1 1" {_OBJ}/>
      </body>
    </body>"""


# The scenes a suite can lay out (``Suite.scene``): the table's half extents (x, y) and the front
# camera (pos, xyaxes, fovy). "wide" is the mobile manipulator's: a table twice as long, filmed from
# further away, so that the objects at its ends are out of a standing arm's reach.
SCENES: dict[str, dict[str, str]] = {
    "tabletop": {"table": "0.55 0.45", "camera": 'pos="0.6 0 0.58" xyaxes="0 1 0 -0.72 0 0.7" fovy="58"'},
    "wide": {"table": "0.55 1.0", "camera": 'pos="0.95 0 0.9" xyaxes="0 1 0 -0.72 0 0.7" fovy="72"'},
}


def scene_xml(
    robot_body: str, robot_actuators: str, name: str, robot_sections: str = "", scene: str = "tabletop"
) -> str:
    """Full model: options, assets, table, objects, articulated items, the robot and cameras.

    ``robot_sections``: top-level MJCF sections the robot needs (its mesh assets, default classes,
    contact exclusions), placed before the world body. ``scene``: one of ``SCENES``.
    """
    layout = SCENES[scene]
    objects = "\n    ".join(_object_xml(s, i) for i, s in enumerate(cat.SLOTS))
    return f"""<mujoco model="hivla-tabletop-{name}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.002" cone="elliptic" impratio="10" integrator="implicitfast"/>
  <visual>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.4 0.4 0.4" specular="0 0 0"/>
    <global offwidth="256" offheight="256"/>
  </visual>
  <asset>
    <texture name="floor" type="2d" builtin="checker" rgb1="0.25 0.27 0.3" rgb2="0.2 0.22 0.25" width="64" height="64"/>
    <material name="floor" texture="floor" texrepeat="6 6"/>
    <material name="table_plain" rgba="0.62 0.5 0.38 1"/>
    <texture name="table_check" type="2d" builtin="checker" rgb1="0.7 0.7 0.7" rgb2="0.35 0.35 0.4" width="64" height="64"/>
    <material name="table_check" texture="table_check" texrepeat="8 8"/>
    <texture name="table_grain" type="2d" builtin="gradient" rgb1="0.3 0.45 0.3" rgb2="0.1 0.2 0.1" width="64" height="64"/>
    <material name="table_grain" texture="table_grain" texrepeat="3 3"/>
    <texture name="table_noise" type="2d" builtin="flat" mark="random" random="0.3" rgb1="0.5 0.35 0.5" markrgb="0.9 0.9 0.9" width="64" height="64"/>
    <material name="table_noise" texture="table_noise" texrepeat="4 4"/>
    <!-- the training pool of re-rendered episodes (hivla.sim.variations); the shifts never use these -->
    <texture name="train_table_wood" type="2d" builtin="gradient" rgb1="0.62 0.46 0.3" rgb2="0.42 0.3 0.2" width="64" height="64"/>
    <material name="train_table_wood" texture="train_table_wood" texrepeat="2 2"/>
    <material name="train_table_slate" rgba="0.45 0.5 0.55 1"/>
    <material name="train_table_light" rgba="0.8 0.7 0.56 1"/>
    <texture name="train_table_stripes" type="2d" builtin="checker" rgb1="0.74 0.64 0.5" rgb2="0.6 0.52 0.4" width="64" height="64"/>
    <material name="train_table_stripes" texture="train_table_stripes" texrepeat="2 14"/>
    <texture name="train_table_speckle" type="2d" builtin="flat" mark="random" random="0.12" rgb1="0.5 0.54 0.46" markrgb="0.32 0.32 0.3" width="64" height="64"/>
    <material name="train_table_speckle" texture="train_table_speckle" texrepeat="3 3"/>
  </asset>
  {robot_sections}
  <worldbody>
    <light name="key" pos="0.3 -0.4 1.5" dir="-0.2 0.3 -1" directional="true" diffuse="0.6 0.6 0.6" castshadow="false"/>
    <geom name="floor" type="plane" size="3 3 0.1" pos="0 0 -0.75" material="floor" contype="1" conaffinity="1"/>
    <geom name="table" type="box" size="{layout["table"]} 0.02" pos="0 0 -0.02" material="table_plain" {_OBJ}/>
    <geom name="zone" type="box" size="{cat.ZONE_HALF} {cat.ZONE_HALF} 0.0005" pos="0 0 -0.5" rgba="0.95 0.85 0.2 0.55" contype="0" conaffinity="0"/>
    <camera name="front" {layout["camera"]}/>
    {objects}
    {_drawer_xml()}
    {_button_xml()}
    {robot_body}
  </worldbody>
  <contact>
    <exclude body1="cabinet" body2="drawer"/>
    <exclude body1="button_base" body2="button"/>
    <exclude body1="finger_left" body2="finger_right"/>
  </contact>
  <actuator>{robot_actuators}
  </actuator>
</mujoco>"""
