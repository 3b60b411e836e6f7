# How a compiled step stores values that may share objects together, and loads them as one.
#
# Pasted into the steps that store or load such groups, like values.py: standard library only,
# nothing of this package imported (the relative import below is dropped when pasting), no module-level
# code but imports and definitions, names starting with `_mlops_`.
#
# `frames = [df]` in the notebook makes `frames[0]` the object `df` names. The compiler lists, per
# step, the outputs that may share objects (`StepPlan.groups`); the step pickles each such group in
# ONE pickle of {name: value}, so shared objects stay shared, and numpy views of a C-ordered array of
# the group stay views of it (pickle alone would copy them; a view loaded this way is writeable, and
# views of Fortran-ordered arrays are stored as copies). A later step that takes several members from that
# producer unpickles the group once and binds each name to its member: `frames[0] is df` holds there.
#
# Where the pickle goes (the trade-off): the same file is put in EVERY member's artifact directory
# (hard-linked where the file system allows, else copied), named after a fresh id. A step then needs
# no artifact it does not read: on a Kubeflow cluster a step only has its own inputs downloaded, and
# members read by one step may come from different groups or producers. The price is storage (and,
# on a cluster, upload and download) of the group once per member read later; a reference to one
# shared copy would cost a step extra inputs it does not read. Steps that load members with the same
# id load the file once.
import os
import pickle
import shutil
import sys
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .values import _MLOPS_UNBOUND, _mlops_pickle, _mlops_type_name

_MLOPS_GROUP_PREFIX = "group-"


def _mlops_array_root(value: Any) -> Any:
    """The ndarray whose memory a numpy array uses (following .base; itself if it owns it), None for
    other values and arrays of objects."""
    t = type(value)
    if t.__module__ != "numpy" or t.__name__ != "ndarray" or value.dtype.hasobject:
        return None
    root = value
    while type(root.base).__name__ == "ndarray" and type(root.base).__module__ == "numpy":
        root = root.base
    return root


def _mlops_visible_arrays(values: Any) -> List[Any]:
    """The numpy arrays among the values and inside their lists, tuples, dicts and sets, each once.

    Only these are stored as views: arrays inside other objects keep what those objects expect
    (a pandas frame's blocks rely on pandas' own record of what shares memory, copy on write).
    """
    found: List[Any] = []
    seen: Dict[int, bool] = {}
    pending = [values]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen[id(value)] = True
        if type(value) in (list, tuple, set, frozenset):
            pending.extend(value)
        elif type(value) is dict:
            pending.extend(value.values())
        elif _mlops_array_root(value) is not None:
            found.append(value)
    return found


def _mlops_group_bytes(values: Dict[str, Any], step: str, label: str, setup_names: Any) -> bytes:
    """One pickle of the group, so objects shared by its members are one object when loaded. Two
    refinements:
    - numpy arrays of the group (in it, or in its lists, tuples, dicts and sets) that use the memory
      of one C-ordered array (views of it, or it and its views) are stored as views of that array;
    - each pandas frame or series is pickled on its own inside the group's pickle: pandas 3 lets two
      objects share memory until one is written (copy on write, `df.astype(same dtype)`), a link its
      own records track and a shared pickle would turn into a real one (a write to one would change
      the other). The object itself is still one object wherever the group holds it; Python objects
      in its cells (a column of lists) are its own copies, no longer shared with other members.
    """
    import io

    arrays = _mlops_visible_arrays(values)
    users: Dict[int, List[Any]] = {}  # id of a root array -> [the root, how many arrays use it]
    for array in arrays:
        root = _mlops_array_root(array)
        users.setdefault(id(root), [root, 0])[1] += 1
    shared = {key for key, (root, count) in users.items() if count > 1 and root.flags.c_contiguous}
    views = {id(a) for a in arrays if id(_mlops_array_root(a)) in shared}
    try:
        data = _mlops_pickle(values, step, label, setup_names)
    except TypeError:
        for var in sorted(values):  # name the member that cannot be stored, and why
            _mlops_pickle(values[var], step, var, setup_names)
        raise
    if not views and "pandas" not in sys.modules:
        return data

    class _Group(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            t = type(obj)
            if t.__module__.split(".")[0] == "pandas" and t.__name__ in ("DataFrame", "Series"):
                return pickle.loads, (pickle.dumps(obj, protocol=4),)
            if id(obj) not in views:
                return NotImplemented
            root = _mlops_array_root(obj)
            if root is obj:
                return NotImplemented
            offset = obj.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            # Unpickled as numpy.ndarray(shape, dtype, buffer=root, offset, strides): a view of root.
            return t, (obj.shape, obj.dtype, root, offset, obj.strides)

    buffer = io.BytesIO()
    _Group(buffer, protocol=4).dump(values)
    return buffer.getvalue()


def _mlops_save_groups(
    args: Dict[str, Any],
    outputs: Dict[str, Tuple[str, str]],
    groups: Optional[Sequence[Sequence[str]]],
    ns: Dict[str, Any],
    step: str,
    setup_names: Any,
) -> List[str]:
    """Store each group of output arguments as one pickle in each member's directory; their names."""
    done: List[str] = []
    for group in groups or []:
        names = [outputs[arg][0] for arg in group]
        values = {var: ns[var] for var in names if var in ns}
        label = ", ".join(sorted(names))
        data = _mlops_group_bytes(values, step, label, setup_names)
        filename = _MLOPS_GROUP_PREFIX + uuid.uuid4().hex + ".pkl"
        first = None
        for arg in group:
            var = outputs[arg][0]
            path = args[arg].path
            os.makedirs(path, exist_ok=True)
            target = os.path.join(path, filename)
            if first is None:
                with open(target, "wb") as f:
                    f.write(data)
                first = target
            else:
                try:
                    os.link(first, target)
                except OSError:
                    shutil.copyfile(first, target)
            kind = _mlops_type_name(values[var]) if var in values else "unbound"
            args[arg].metadata.update(format="group", variable=var, members=sorted(names), type=kind)
            done.append(arg)
    return done


def _mlops_group_file(path: str) -> Optional[str]:
    try:
        names = os.listdir(path)
    except OSError:
        return None
    found = [n for n in names if n.startswith(_MLOPS_GROUP_PREFIX) and n.endswith(".pkl")]
    return found[0] if found else None


def _mlops_load_groups(args: Dict[str, Any], inputs: Dict[str, Tuple[str, str]], step: str) -> Dict[str, Any]:
    """The inputs stored in groups, by argument: members of one stored group come from one unpickling."""
    loaded: Dict[str, Dict[str, Any]] = {}
    values: Dict[str, Any] = {}
    for arg, (var, kind) in sorted(inputs.items()):
        if kind != "artifact":
            continue
        path = args[arg].path
        filename = _mlops_group_file(path)
        if filename is None:
            continue
        if filename not in loaded:
            try:
                with open(os.path.join(path, filename), "rb") as f:
                    loaded[filename] = pickle.load(f)
            except ImportError as exc:
                raise ImportError(
                    "step %r: input %r needs the package %r to load; add it with --packages."
                    % (step, var, exc.name)
                ) from None
        values[arg] = loaded[filename].get(var, _MLOPS_UNBOUND)
    return values
