"""A `%%component` cell that awaits at its top level runs in the kernel as a plain cell would (IPython's
autoawait), though the magic runs its body inside a cell the kernel's event loop is already running;
and the pipeline made of it runs too (tests/executor/test_top_level_await.py: the step side)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .kernel_notebooks import KernelSession

FETCH = (
    "%%component fetch\n"
    "async def get(i):\n"
    "    await asyncio.sleep(0)\n"
    "    return i * 2\n"
    "values = await asyncio.gather(*[get(i) for i in range(4)])\n"
    "print('fetched', values)\n"
    "values"
)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[KernelSession]:
    """A kernel with the extension loaded and a setup cell importing asyncio."""
    kernel = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    try:
        for cell in ("%load_ext jupyter_mlops", "%%pipeline setup\nimport asyncio"):
            reply, shown = kernel.run(cell)
            assert reply["status"] == "ok", shown
        yield kernel
    finally:
        kernel.close()


def test_a_component_cell_with_top_level_await_runs_in_the_kernel_and_as_a_step(session):
    reply, shown = session.run(FETCH)
    assert reply["status"] == "ok", shown
    assert "fetched [0, 2, 4, 6]" in shown and "[0, 2, 4, 6]" in shown.split("fetched", 1)[1], shown
    assert session.value("values") == "[0, 2, 4, 6]"  # in the kernel's namespace, as a plain cell
    reply, shown = session.run("%%component report\nawait asyncio.sleep(0)\ntotal = sum(values)\ntotal")
    assert reply["status"] == "ok", shown
    reply, shown = session.run(
        "run = %pipeline run --wait\nprint(run.state.value, run.outputs['report']['result'])"
    )
    assert reply["status"] == "ok", shown
    assert "SUCCEEDED 12" in shown, shown


SLOW = (
    "%%component slow\n"
    "try:\n"
    "    print('waiting', flush=True)\n"
    "    await asyncio.sleep(60)\n"
    "    ended = 'slept'\n"
    "except asyncio.CancelledError:\n"
    "    open('cancelled.txt', 'w').write('cleaned up')\n"
    "    raise\n"
)


def test_interrupting_an_awaiting_component_cell_cancels_its_body_and_the_kernel_goes_on(session, tmp_path):
    msg_id = session.kc.execute(SLOW)
    while True:  # the body is awaiting once it has printed
        io = session.kc.get_iopub_msg(timeout=60)
        if io["parent_header"].get("msg_id") == msg_id and io["msg_type"] == "stream":
            assert "waiting" in io["content"]["text"]
            break
    session.km.interrupt_kernel()
    while True:
        reply = session.kc.get_shell_msg(timeout=30)  # not the 60 s of the sleep
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt", reply["content"]
    # the body's cleanup ran (its task was cancelled, not left sleeping in a thread)
    assert (tmp_path / "cancelled.txt").read_text() == "cleaned up"
    reply, shown = session.run(
        "import threading\nprint(sorted(t.name for t in threading.enumerate() if 'await' in t.name))"
    )
    assert reply["status"] == "ok", shown
    assert shown.strip() == "[]", shown
    assert session.value("'ended' in globals()") == "False"
    reply, shown = session.run("%%component after\nawait asyncio.sleep(0)\nafter = 2")
    assert reply["status"] == "ok", shown
    assert session.value("after") == "2"
