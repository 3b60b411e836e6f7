"""TensorBoard in the notebook: embedding projector files and event files written with no TensorFlow
or PyTorch (`files`), TensorBoard processes we start and keep alive (`instances`), the server
extension's authenticated proxy to them (`proxy`), and showing one inline (`display`).

Nothing here imports tensorboard, tornado or jupyter_server at import time.
"""
