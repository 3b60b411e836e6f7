"""What a `%%component` cell shows in the kernel is what the same plain cell shows."""

from __future__ import annotations

from pathlib import Path

from tests.kernel.kernel_notebooks import execute_notebook, notebook, outputs_text


def test_a_trailing_semicolon_hides_the_value_and_a_bare_value_still_shows(tmp_path: Path) -> None:
    nb = notebook(
        [
            "%load_ext jupyter_mlops",
            "%%component quiet\nlabels = ['a', 'b']\nprint('made', len(labels))\nlabels.copy();",
            "%%component loud\nn = len(labels)\nn * 10",
            "%%component spaced\nsorted(labels) ;  # a comment after the semicolon",
        ]
    )
    execute_notebook(nb, tmp_path)
    quiet, loud, spaced = (outputs_text(nb.cells[i]) for i in (1, 2, 3))
    assert quiet == "made 2\n"  # the print shows, the value after `;` does not
    assert loud == "20"
    assert spaced == ""
