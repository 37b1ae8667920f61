"""Serving: a trained policy on a robot over the network, and exported for lean runtimes.

- :mod:`.wire`: openpi's msgpack-numpy encoding, decoded with bounds and without pickle.
- :mod:`.protocol`: the metadata, requests (observation plus control keys) and replies.
- :mod:`.session`: one client's own policy instance and mirrored scene.
- :mod:`.server`: ``hivla serve``, the websocket server (openpi's protocol; API key, limits, SIGTERM).
- :mod:`.client`: :class:`RemotePolicy`, the robot side, registered as the policy spec ``ws://HOST:PORT``.
- :mod:`.onnx`: ``hivla export --format onnx [--int8]`` and the ``onnx:DIR`` policy run by onnxruntime.

websockets and msgpack (extra ``serve``), onnx and onnxruntime (extra ``export``) are imported on
first use, with a message naming the extra when they are missing.
"""
