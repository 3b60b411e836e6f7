"""The code that runs a notebook cell as a compiled step, inside the step's process.

A compiled step imports it (`from jupyter_mlops.step_runtime.run import _mlops_run_step`): the step's
pip prelude installs `jupyter-mlops` at the compiling version, which changes nothing where that version
is installed already (this machine, an image that has it). With `%%pipeline setup --inline-runtime`
each step carries instead the functions of these modules it uses, pasted into its own source
(compiler/runtime_source.py): larger YAML, nothing to install. Either way this package imports only the
standard library (an import-linter contract keeps it so) and this file stays empty: importing
`jupyter_mlops` itself is cheap (its root loads nothing until used).
"""
