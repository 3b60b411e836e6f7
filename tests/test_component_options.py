"""The `%%component` line: every option parsed, bad input named."""

import pytest

from jupyter_mlops.errors import UsageError
from jupyter_mlops.notebook.options import Toleration, parse_component_line, parse_setup_line


def test_all_options():
    name, o = parse_component_line(
        "train --packages numpy==2.0,pandas --packages auto --image python:3.12 --cpu 2 --memory 4G --gpu 1"
        " --retries 3 --timeout 600 --no-cache --node-selector pool=gpu --node-selector zone=a"
        " --toleration gpu=true:NoSchedule --toleration spot:NoExecute --inputs a,b --outputs c"
        " --after load --define-only"
    )
    assert name == "train"
    assert o.packages == ("numpy==2.0", "pandas") and o.auto_packages
    assert (o.image, o.cpu, o.memory, o.gpu, o.retries, o.timeout) == ("python:3.12", "2", "4G", 1, 3, 600)
    assert o.cache is False and o.define_only is True
    assert o.node_selector == (("pool", "gpu"), ("zone", "a"))
    assert o.tolerations == (Toleration("gpu", "true", "NoSchedule"), Toleration("spot", None, "NoExecute"))
    assert o.tolerations[1].operator == "Exists"
    assert (o.inputs, o.outputs, o.after) == (("a", "b"), ("c",), ("load",))


def test_defaults():
    name, o = parse_component_line("prep")
    assert name == "prep" and o.cache and o.inputs is None and o.outputs is None and o.retries == 0


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("", "name"),
        ("1step", "must start with an ASCII letter"),
        ("a --cpu lots", "--cpu 'lots'"),
        ("a --memory 4 gigs", "unrecognized arguments"),
        ("a --memory huge", "--memory 'huge'"),
        ("a --retries -1", "--retries must be 0 or more"),
        ("a --node-selector pool", "KEY=VALUE"),
        ("a --toleration k=v:Sometimes", "EFFECT one of"),
        ("a --inputs 'x y'", "not a Python variable name"),
        ("a --bogus", "unrecognized arguments: --bogus"),
        ("a --image 'unclosed", "cannot read the options"),
        ("--packages numpy train", "needs the step's name first: %%component NAME [options]"),
        ("a --packages", "--packages: expected at least one argument"),
    ],
)
def test_bad_lines_say_what(line, fragment):
    with pytest.raises(UsageError, match=None) as info:
        parse_component_line(line)
    assert fragment in str(info.value)


def test_setup_line():
    o = parse_setup_line("--packages numpy,scipy --define-only")
    assert o.packages == ("numpy", "scipy") and o.define_only


@pytest.mark.parametrize(
    "line",
    [
        "--packages pandas scikit-learn",
        "--packages pandas,scikit-learn",
        "--packages pandas --packages scikit-learn",
    ],
)
def test_packages_may_be_listed_as_pip_takes_them_or_with_commas(line):
    assert parse_setup_line(line).packages == ("pandas", "scikit-learn")
    name, o = parse_component_line("train " + line + " --cpu 2")
    assert name == "train" and o.packages == ("pandas", "scikit-learn") and o.cpu == "2"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("früh", ", e.g. 'fruh'"),
        ("2nd_pass", ", e.g. 'step_2nd_pass'"),
        ("load-data", ", e.g. 'load_data'"),
        ("東京", ""),
    ],
)
def test_a_step_name_kubeflow_cannot_take_is_refused_with_an_ascii_one_to_use(name: str, hint: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_component_line(name)
    assert str(raised.value) == (
        f"%%component: step name {name!r} must start with an ASCII letter and hold only ASCII letters, "
        f"digits and _ (Kubeflow names its task after it){hint}"
    )
