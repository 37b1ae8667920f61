"""Configuration of the flat VLA policy (one frozen dataclass; presets in ``hivla.configs``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hivla.models import BackboneConfig, HeadConfig, LanguageConfig, VisionConfig
from hivla.policies.vla.reasoning import ReasoningConfig
from hivla.types import CAMERAS, CONTACT_NAMES

ACTION_SPACES = ("native", "universal")
DEPTH_ENCODERS = ("channel", "points")
LANGUAGE_KEYS = ("task", "subtask")
PROPRIO_KINDS = ("body", "shared")


@dataclass(frozen=True)
class VLAConfig:
    """A vision-language-action policy: encoders -> transformer backbone -> action head.

    ``cameras``: which ``observation.images.<cam>`` to read. ``image_size``: square input in px
    (images are resized to it in training and serving alike). ``horizon``: actions per chunk.
    ``execute_steps``: actions of each chunk executed before the policy is queried again (0: the
    whole chunk); ``hivla eval`` (hierarchical policies included) and the training rollouts use it
    unless told otherwise.
    ``action_space``: ``native`` (the embodiment's own actions, one embodiment) or ``universal``
    (``action.universal`` float[7], any number of embodiments; see ``hivla.types``).
    ``embodiments``, ``state_dim``, ``action_dim``: filled from the data by the trainer (0 / () = not yet).
    ``proprio``: what the policy reads of the state: ``body`` (the whole state, normalized per
    embodiment, plus an embodiment embedding when there are several) or ``shared`` (only the part
    every body shares, :data:`hivla.types.SHARED_STATE_NAMES`, normalized by one set of statistics,
    no embodiment embedding): a ``shared`` universal-action policy can drive a body it never saw.
    ``augment_shift``: random shift of each training image by up to this many pixels (replicate
    padding, then crop; DrQ, Kostrikov et al. 2020); never at inference.
    ``augment_colour``: training images get random brightness, contrast and saturation factors in
    [1 - a, 1 + a], drawn per sample and camera (``hivla.transforms.image.jitter_colour``; hue
    untouched, so colour names stay true). ``camera_dropout``: probability, per sample and camera,
    of blanking that camera's training image, never every camera of a sample
    (``hivla.transforms.image.drop_cameras``; needs two cameras or more). Image augmentations change
    the pixels at every step, so they cannot apply to cached frozen-encoder features: a run with
    ``data.cache_features`` and a frozen encoder refuses them (``hivla.configs.ExperimentConfig``).
    ``paraphrase``: probability, per training sample, of replacing its text with a random rephrasing
    in the training paraphrases (``hivla.transforms.paraphrase``; held-out templates never appear);
    texts that are not in the simulator's templates stay as they are.
    All of these are training-only: inference is deterministic and unchanged.
    ``language_key``: the text the policy is trained on, ``task`` (the whole instruction: a flat
    policy) or ``subtask`` (the current subtask: the low level of a hierarchical policy). At
    inference the policy reads ``obs["instruction"]`` either way. ``reasoning``: generate a grounded
    reasoning trace before the actions (``hivla.policies.vla.reasoning``). ``localize``: weight of
    an object-centric auxiliary loss (0 disables): in every camera, the CNN's first spatial-softmax
    keypoint (a fine one with ``vision.fine_keypoints``) is trained to sit on the object the current
    step is about (the expert's target, recorded as ``annotation.target_uv``), so the image features
    must find the named object wherever it lies instead of memorizing layouts; the located
    positions (Fourier features) and the state then enter the backbone as one more token, so the
    actions can read where the target is relative to the hand directly. Needs ``vision.kind='cnn'``
    with keypoints.
    ``depth``: the policy reads each camera's depth map (``obs["depth"]``, metres), encoded by
    ``depth_encoder``: ``channel`` makes it a fourth input channel of the CNN (RGB-D), clipped to
    ``DEPTH_RANGE`` metres and scaled to [0, 1] (:func:`hivla.policies.vla.processor_vla.depth_channel`;
    needs ``vision.kind='cnn'``); ``points`` back-projects ``point_samples`` pixels of each camera
    to world points with the camera's intrinsics and pose (``obs["camera_params"]``) and encodes
    each camera's cloud into one more token with a PointNet (:mod:`hivla.models.points`); points
    farther than ``DEPTH_RANGE`` are dropped.
    ``contact``: the touch readings (``obs["contact"]``, :data:`hivla.types.CONTACT_NAMES`) join the
    normalized state in the state token, compressed by ``sign(x) log(1 + |x|)`` (newtons span 0..20).
    Both need data recorded with ``hivla collect --sensors depth,contact`` and an env run with them
    (``sensors``; the evaluation harness asks the env for them).
    """

    vision: VisionConfig = field(default_factory=VisionConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    cameras: tuple[str, ...] = ("front", "wrist")
    image_size: int = 64
    horizon: int = 10
    execute_steps: int = 0
    action_space: str = "native"
    embodiments: tuple[str, ...] = ()
    state_dim: int = 0
    action_dim: int = 0
    action_quantiles: tuple[float, float] = (0.01, 0.99)
    augment_shift: int = 0
    augment_colour: float = 0.0
    camera_dropout: float = 0.0
    paraphrase: float = 0.0
    language_key: str = "task"
    reasoning: ReasoningConfig = field(default_factory=ReasoningConfig)
    localize: float = 0.0
    depth: bool = False
    depth_encoder: str = "channel"
    point_samples: int = 256
    contact: bool = False
    proprio: str = "body"

    def __post_init__(self) -> None:
        if self.proprio not in PROPRIO_KINDS:
            raise ValueError(f"proprio must be one of {PROPRIO_KINDS}, got {self.proprio!r}")
        if self.proprio == "shared" and self.action_space != "universal":
            raise ValueError(
                "proprio='shared' lets a policy drive bodies it never saw, which only universal actions can: "
                "set action_space='universal' or proprio='body'"
            )
        if self.depth_encoder not in DEPTH_ENCODERS:
            raise ValueError(f"depth_encoder must be one of {DEPTH_ENCODERS}, got {self.depth_encoder!r}")
        if not 16 <= self.point_samples <= 4096:
            raise ValueError(f"point_samples must be within 16..4096, got {self.point_samples}")
        if self.depth and self.depth_encoder == "channel" and self.vision.kind != "cnn":
            raise ValueError(
                f"depth_encoder='channel' feeds depth as a fourth channel of the CNN; vision.kind="
                f"{self.vision.kind!r} reads RGB only: use the cnn encoder, depth_encoder='points' or depth=False"
            )
        if self.localize < 0:
            raise ValueError(f"localize is a loss weight, must be >= 0 (0 disables), got {self.localize}")
        if self.localize and (self.vision.kind != "cnn" or self.vision.keypoints < 1):
            raise ValueError(
                "localize > 0 supervises the CNN's first spatial-softmax keypoint: it needs "
                f"vision.kind='cnn' with vision.keypoints >= 1, got kind={self.vision.kind!r}, "
                f"keypoints={self.vision.keypoints}"
            )
        if self.language_key not in LANGUAGE_KEYS:
            raise ValueError(f"language_key must be one of {LANGUAGE_KEYS}, got {self.language_key!r}")
        if not self.cameras or any(c not in CAMERAS for c in self.cameras):
            raise ValueError(f"cameras must be a non-empty subset of {CAMERAS}, got {self.cameras!r}")
        if not 16 <= self.image_size <= 512:
            raise ValueError(f"image_size must be within 16..512 px, got {self.image_size}")
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if not 0 <= self.execute_steps <= self.horizon:
            raise ValueError(
                f"execute_steps must be within 0..horizon={self.horizon} (0: the whole chunk), got {self.execute_steps}"
            )
        if self.action_space not in ACTION_SPACES:
            raise ValueError(f"action_space must be one of {ACTION_SPACES}, got {self.action_space!r}")
        if self.action_space == "native" and len(self.embodiments) > 1:
            raise ValueError(
                f"native actions differ between embodiments {self.embodiments}; "
                "set action_space='universal' to train on several"
            )
        if self.state_dim < 0 or self.action_dim < 0:
            raise ValueError(
                f"state_dim and action_dim must be >= 0, got {self.state_dim}, {self.action_dim}"
            )
        if not 0 <= self.augment_shift <= self.image_size // 4:
            raise ValueError(
                f"augment_shift must be within 0..image_size/4 = {self.image_size // 4}, got {self.augment_shift}"
            )
        for name in ("augment_colour", "camera_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be within [0, 1) (0 disables), got {getattr(self, name)}")
        if not 0.0 <= self.paraphrase <= 1.0:
            raise ValueError(
                f"paraphrase is a probability per sample, must be within [0, 1], got {self.paraphrase}"
            )
        if self.camera_dropout and len(self.cameras) < 2:
            raise ValueError(
                f"camera_dropout blanks one camera of a sample at a time and never all, so it needs two cameras "
                f"or more; this policy reads {self.cameras}: set camera_dropout=0 or add a camera"
            )
        lo, hi = self.action_quantiles
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(
                f"action_quantiles must satisfy 0 <= low < high <= 1, got {self.action_quantiles}"
            )
        if self.vision.kind == "hf_vlm" and self.language.kind != "none":
            raise ValueError(
                "with vision.kind='hf_vlm' the VLM reads the instruction: set language.kind='none'"
            )
        if self.vision.kind != "hf_vlm" and self.language.kind == "none":
            raise ValueError(
                "language.kind='none' only goes with vision.kind='hf_vlm' (which reads the text)"
            )

    @property
    def image_augmentations(self) -> dict[str, float]:
        """The image augmentations that are on, by field name (none of them apply to cached features)."""
        on = {"augment_shift": self.augment_shift, "augment_colour": self.augment_colour}
        on["camera_dropout"] = self.camera_dropout
        return {k: v for k, v in on.items() if v}

    @property
    def sensors(self) -> tuple[str, ...]:
        """The env sensors (``hivla.sim.sensors``) this policy reads besides RGB and state."""
        return (*(("depth",) if self.depth else ()), *(("contact",) if self.contact else ()))

    @property
    def contact_dim(self) -> int:
        return len(CONTACT_NAMES) if self.contact else 0

    @property
    def image_channels(self) -> int:
        """Input channels per camera: RGB, plus depth with ``depth`` as a ``channel``."""
        return 4 if self.depth_channel else 3

    @property
    def depth_channel(self) -> bool:
        return self.depth and self.depth_encoder == "channel"

    @property
    def depth_points(self) -> bool:
        return self.depth and self.depth_encoder == "points"

    @property
    def action_key(self) -> str:
        """The batch key holding the training targets."""
        return "action.universal" if self.action_space == "universal" else "action"

    @property
    def any_embodiment(self) -> bool:
        """True when the policy can drive any body: it reads the shared proprioception (which
        ``__post_init__`` allows with universal actions only)."""
        return self.proprio == "shared"

    @property
    def resolved(self) -> bool:
        """True once the data-dependent fields are set."""
        return bool(self.embodiments) and self.state_dim > 0 and self.action_dim > 0
