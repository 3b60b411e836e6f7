"""Names unpacked from one value keep sharing objects across steps: `fig, ax = plt.subplots()` in one
step, `ax.plot(...)` in the next, and a later step that reads both gets `ax.figure is fig`, as in the
kernel (both passed on by the step that may change one, stored together)."""

from __future__ import annotations

from jupyter_mlops.compiler.planner import plan_pipeline
from jupyter_mlops.notebook.workspace import Workspace


def test_a_step_drawing_on_ax_passes_fig_on_with_it() -> None:
    w = Workspace("plots")
    w.define_setup("", "import matplotlib.pyplot as plt\n")
    w.define_component("make", "fig, ax = plt.subplots(figsize=(4, 3))\n")
    w.define_component("draw", "ax.set_title('squares')\n")
    w.define_component("use", "print(ax.figure is fig)\n")
    plan = plan_pipeline(w.active)
    assert plan.step("use").inputs == {"ax": ("draw", "artifact"), "fig": ("draw", "artifact")}
    assert plan.step("draw").groups == (frozenset({"ax", "fig"}),)
