"""TensorBoard in the notebook: projector and event files written with no TensorFlow or PyTorch
(`files`, over step_runtime/tensorboard.py, which compiled steps inline), the registry of logdirs
that may be served (`registry`), TensorBoard processes bound to 127.0.0.1 (`process`), a run's logdirs
(`logdirs`), showing it inline (`display`, `links`) and the magic and command line (`commands`).
The server extension's proxy to it is in server/tensorboard_proxy.py.

Nothing here imports tensorboard, tornado or jupyter_server at import time.
"""
