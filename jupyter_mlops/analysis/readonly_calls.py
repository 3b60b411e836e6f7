"""Which calls are known to leave their receiver and arguments unchanged, and which are known to change them.

The data-flow analysis is sound: a step that MAY change a value is that value's latest producer,
so later steps take it from that step and run after it. A method call on a value (`model.fit(X, y)`),
or passing a value to a call (`helper(df)`, `rng.shuffle(a)`), may change it, unless the call is
listed here as known to change nothing. Static analysis does not know a value's type, so the tables
are by name: a method name is read-only only if it is read-only on every common type that has it
(builtins, numpy, pandas, scikit-learn). When a name is read-only on some types and changes others,
it is NOT listed as read-only (correctness first; the cost is a copy of the value passed on):

- `sort` sorts a list or an ndarray in place (pandas' `sort_values` only with `inplace=True`).
- `plot`, `hist`, `scatter`, `bar`, `boxplot` on a matplotlib `Axes` add to the axes, so the
  receiver counts as changed (`df.plot()` makes a needless copy of `df`); their arguments do not.
- `sample` on a `random.Random` advances its state (pandas' `df.sample` does not: a needless copy).
- `apply`, `map`, `pipe`, `transform` with a function argument run user code: `apply` and `pipe` are
  not listed; `transform` is listed as read-only because scikit-learn's fitted transformers do not
  change in `transform` (unlike `fit_transform`) and pandas' `transform` returns a new object.
- `update`, `pop`, `append` and friends change containers (pandas' `DataFrame.update` too); `add`
  fills a set (pandas' `df.add(other)` does not: a needless copy); `partition` sorts an ndarray in
  place (`str.partition` does not).

Keyword arguments: `inplace=` anything but a literal `False` changes the receiver (pandas);
`out=x` changes `x` (numpy ufuncs and reductions); `copy=False` may change the arguments
(`sklearn.preprocessing.scale(X, copy=False)`), whatever the function.

Method tables answer: does the call change the receiver? its arguments? may its value share
memory with the receiver or the arguments (a view, an element)? The last matters only inside a
step, when the value is stored in a name and that name is then changed (`col = df['a']; col[0] = 1`):
a view shares everything, a shallow copy (`lst.copy()`, `list(x)`) shares only the items, so
`c = lst.copy(); c.append(1)` leaves `lst` alone while `c[0].append(1)` changes an item of `lst`.
"""

from __future__ import annotations

# Methods that change neither the receiver nor the arguments.
READ_ONLY_METHODS = frozenset(
    {
        # builtins: str, bytes, dict, list, set, tuple
        "capitalize", "casefold", "center", "count", "decode", "encode", "endswith", "expandtabs",
        "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal",
        "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle",
        "isupper", "join", "ljust", "lower", "lstrip", "removeprefix", "removesuffix",
        "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
        "get", "items", "keys", "values", "copy", "union", "intersection", "difference",
        "symmetric_difference", "issubset", "issuperset", "isdisjoint", "fromkeys", "hex",
        "is_integer", "as_integer_ratio", "bit_length", "conjugate",
        # numpy arrays and pandas objects (changing only with inplace=/out=, handled by keyword)
        "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "compress", "cumprod", "cumsum",
        "diagonal", "dot", "flatten", "item", "max", "mean", "min", "nonzero", "prod", "ptp",
        "ravel", "repeat", "reshape", "round", "searchsorted", "squeeze", "std", "sum", "swapaxes",
        "take", "tobytes", "tolist", "trace", "transpose", "var", "view",
        "head", "tail", "describe", "info", "median", "mode", "nunique", "unique", "value_counts",
        "groupby", "agg", "aggregate", "drop", "dropna", "fillna", "rename", "sort_values",
        "sort_index", "reset_index", "set_index", "merge", "pivot", "pivot_table", "melt", "query",
        "filter", "select_dtypes", "to_numpy", "to_dict", "to_list", "to_frame", "to_csv",
        "to_parquet", "to_json", "to_string", "to_markdown", "to_pickle", "to_records", "isna",
        "isnull", "notna", "notnull", "duplicated", "drop_duplicates", "corr", "cov", "abs", "diff",
        "pct_change", "shift", "rolling", "expanding", "resample", "nlargest", "nsmallest", "idxmax",
        "idxmin", "quantile", "iterrows", "itertuples", "equals", "isin", "between", "where", "mask",
        "explode", "stack", "unstack", "reindex", "memory_usage", "first_valid_index",
        "contains", "len", "strftime", "total_seconds", "sem", "skew", "kurt", "cummax",
        "cummin", "rank", "sub", "mul", "div", "truediv", "floordiv", "pow", "eq", "ne", "lt",
        "le", "gt", "ge",
        # scikit-learn estimators, once fitted (fit, partial_fit, fit_* change the estimator)
        "predict", "predict_proba", "predict_log_proba", "decision_function", "score", "transform",
        "inverse_transform", "get_params", "get_feature_names_out", "score_samples", "staged_predict",
    }
)  # fmt: skip

# Methods that change the receiver but not their arguments: containers filled or sorted,
# estimators fitted, random generators advanced, axes drawn on.
RECEIVER_CHANGING_METHODS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update",
        "setdefault", "popitem", "discard", "add", "add_note",
        "fit", "partial_fit", "fit_transform", "fit_predict", "set_params", "set_output",
        "fill", "resize", "put", "itemset", "partition", "setflags",
        "random", "integers", "normal", "uniform", "choice", "permutation", "standard_normal",
        "binomial", "poisson", "exponential", "beta", "gamma", "randint", "rand", "randn", "sample",
        "seed", "bit_generator", "spawn", "gauss", "random_sample",
        "plot", "hist", "scatter", "bar", "barh", "boxplot", "imshow", "set_title", "set_xlabel",
        "set_ylabel", "legend", "grid", "set_xlim", "set_ylim", "savefig", "tight_layout",
    }
)  # fmt: skip

# Methods that change their arguments (and their receiver): shuffling in place.
ARGUMENT_CHANGING_METHODS = frozenset({"shuffle"})

# What a call's value shares with the receiver and the arguments, for read-only calls:
# "fresh" (nothing: a number, a string, a new array or frame), "items" (a new container holding the
# same items: `lst.copy()`, `list(x)`, `dict(d)`), "view" (may be the object itself, a part of it or
# a view of its memory: `arr.reshape(..)`, `d.get(k)`, `df.head()`, `np.asarray(a)`). Read-only
# calls not listed as "view" or "items" give fresh values; any other call's value is a "view".
VIEW_METHODS = frozenset(
    {
        "view", "reshape", "ravel", "transpose", "swapaxes", "squeeze", "diagonal", "get", "items",
        "keys", "values", "head", "tail", "groupby", "rolling", "expanding", "resample", "iterrows",
        "itertuples", "to_numpy", "to_frame", "agg", "aggregate", "__getitem__",
    }
)  # fmt: skip
ITEMS_METHODS = frozenset({"copy", "tolist", "to_list", "to_dict", "to_records"})

# Functions (builtins by bare name, others by dotted import path) that change none of their
# arguments. Functions that take a function (`sorted(key=...)`, `max(key=...)`) are taken to call it
# on values without changing them. `map`, `filter` and `next` are not listed: map and filter call
# arbitrary functions on the items, next advances an iterator.
READ_ONLY_FUNCTIONS = frozenset(
    {
        "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict",
        "dir", "divmod", "enumerate", "float", "format", "frozenset", "getattr", "hasattr", "hash",
        "hex", "id", "int", "isinstance", "issubclass", "iter", "len", "list", "max", "min", "oct",
        "open", "ord", "pow", "print", "range", "repr", "reversed", "round", "set", "slice",
        "sorted", "str", "sum", "tuple", "type", "vars", "zip", "display", "log_metric",
        "copy.copy", "copy.deepcopy", "json.dumps", "json.loads", "pickle.dumps", "math", "statistics",
        "numpy.array", "numpy.asarray", "numpy.copy", "numpy.mean", "numpy.sum", "numpy.std",
        "numpy.var", "numpy.min", "numpy.max", "numpy.amin", "numpy.amax", "numpy.median",
        "numpy.average", "numpy.argmax", "numpy.argmin", "numpy.argsort", "numpy.sort", "numpy.unique",
        "numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.full_like",
        "numpy.concatenate", "numpy.stack", "numpy.vstack", "numpy.hstack", "numpy.column_stack",
        "numpy.dot", "numpy.matmul", "numpy.where", "numpy.clip", "numpy.abs", "numpy.absolute",
        "numpy.exp", "numpy.log", "numpy.log1p", "numpy.sqrt", "numpy.square", "numpy.sin",
        "numpy.cos", "numpy.tanh", "numpy.allclose", "numpy.isclose", "numpy.array_equal",
        "numpy.isnan", "numpy.isfinite", "numpy.round", "numpy.cumsum", "numpy.cumprod", "numpy.diff",
        "numpy.percentile", "numpy.quantile", "numpy.corrcoef", "numpy.cov", "numpy.histogram",
        "numpy.bincount", "numpy.nonzero", "numpy.count_nonzero", "numpy.reshape", "numpy.transpose",
        "numpy.ravel", "numpy.save", "numpy.savez", "numpy.shape", "numpy.ndim", "numpy.size",
        "numpy.outer", "numpy.inner", "numpy.einsum", "numpy.maximum", "numpy.minimum", "numpy.add",
        "numpy.subtract", "numpy.multiply", "numpy.divide", "numpy.power", "numpy.floor",
        "numpy.ceil", "numpy.sign", "numpy.any", "numpy.all", "numpy.prod", "numpy.tile",
        "numpy.repeat", "numpy.meshgrid", "numpy.searchsorted", "numpy.interp", "numpy.polyfit",
        "numpy.polyval", "numpy.trace", "numpy.diag", "numpy.isin", "numpy.setdiff1d",
        "numpy.intersect1d", "numpy.union1d", "numpy.linalg", "numpy.expand_dims",
        "numpy.squeeze", "numpy.atleast_2d", "numpy.array_split", "numpy.split", "numpy.argwhere",
        "numpy.logical_and", "numpy.logical_or", "numpy.logical_not", "numpy.exp2", "numpy.log2",
        "numpy.log10", "numpy.arange", "numpy.linspace", "numpy.zeros", "numpy.ones", "numpy.full",
        "numpy.eye", "numpy.nanmean", "numpy.nanstd", "numpy.nansum", "numpy.nanmax", "numpy.nanmin",
        "pandas.DataFrame", "pandas.Series", "pandas.Index", "pandas.Categorical", "pandas.concat",
        "pandas.merge", "pandas.read_csv", "pandas.read_parquet", "pandas.read_json",
        "pandas.to_datetime", "pandas.to_numeric", "pandas.get_dummies", "pandas.crosstab",
        "pandas.pivot_table", "pandas.cut", "pandas.qcut", "pandas.isna", "pandas.isnull",
        "pandas.notna", "pandas.notnull", "pandas.unique", "pandas.melt", "pandas.date_range",
        "sklearn.model_selection.train_test_split", "sklearn.model_selection.cross_val_score",
        "sklearn.model_selection.cross_validate", "sklearn.model_selection.cross_val_predict",
        "sklearn.base.clone", "sklearn.metrics", "matplotlib.pyplot", "seaborn",
        "numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator",
        "numpy.random.SeedSequence", "random.Random", "random.choice", "random.choices",
        "random.sample", "random.randint", "random.uniform", "random.gauss",
        # scikit-learn's estimators only store their arguments when made (its API convention)
        "sklearn.linear_model", "sklearn.ensemble", "sklearn.tree", "sklearn.svm",
        "sklearn.neighbors", "sklearn.naive_bayes", "sklearn.cluster", "sklearn.decomposition",
        "sklearn.pipeline", "sklearn.compose", "sklearn.neural_network", "sklearn.impute",
        "sklearn.feature_extraction", "sklearn.preprocessing", "sklearn.model_selection",
        "jupyter_mlops.log_metric", "jupyter_mlops.logdir", "jupyter_mlops.log_embedding",
        # the standard library's paths, files, text, time and iteration helpers; writers of files
        # (json.dump, pickle.dump) change the file object only, which never crosses steps
        "os", "pathlib", "shutil", "glob", "time", "datetime", "re", "string", "textwrap",
        "itertools", "collections", "functools", "operator", "warnings", "logging", "json.dump",
        "json.load", "pickle.dump", "pickle.load", "pickle.loads", "yaml.safe_dump", "yaml.dump",
        "yaml.safe_load", "tqdm",
    }
)  # fmt: skip
# A dotted entry that is a module (`math`, `statistics`, `numpy.linalg`, `sklearn.metrics`,
# `matplotlib.pyplot`, `seaborn`) makes every function in it read-only for its arguments: they
# compute or draw. (pyplot's functions change the current figure, which is not a value of the step.)
# numpy's functions with `out=` are handled by keyword.

# Functions known to change their arguments (the analysis says "changes", not "may change").
ARGUMENT_CHANGING_FUNCTIONS = frozenset(
    {
        "random.shuffle",
        "numpy.random.shuffle",
        "numpy.copyto",
        "numpy.put",
        "numpy.place",
        "numpy.fill_diagonal",
    }
)

VIEW_FUNCTIONS = frozenset(
    {
        "iter", "reversed", "zip", "enumerate", "getattr", "max", "min", "vars", "type", "slice",
        "numpy.asarray", "numpy.asanyarray", "numpy.reshape", "numpy.ravel", "numpy.transpose",
        "numpy.squeeze", "numpy.expand_dims", "numpy.atleast_1d", "numpy.atleast_2d",
        "numpy.atleast_3d", "numpy.swapaxes", "numpy.moveaxis", "numpy.split", "numpy.array_split",
        "numpy.hsplit", "numpy.vsplit", "numpy.broadcast_to", "numpy.broadcast_arrays",
        "numpy.diagonal", "numpy.diag", "numpy.flip", "numpy.fliplr", "numpy.flipud", "numpy.rot90",
        "numpy.real", "numpy.imag", "pandas.DataFrame", "pandas.Series", "pandas.Index",
        "pandas.Categorical", "pandas.concat", "pandas.merge", "pandas.melt", "pandas.get_dummies",
        # estimators, pipelines and searches hold the objects they are given
        "sklearn.linear_model", "sklearn.ensemble", "sklearn.tree", "sklearn.svm", "sklearn.neighbors",
        "sklearn.naive_bayes", "sklearn.cluster", "sklearn.decomposition", "sklearn.pipeline",
        "sklearn.compose", "sklearn.neural_network", "sklearn.impute", "sklearn.feature_extraction",
        "sklearn.preprocessing", "sklearn.model_selection.GridSearchCV",
        "sklearn.model_selection.RandomizedSearchCV", "sklearn.model_selection.KFold",
        "itertools", "collections", "functools", "tqdm", "operator.itemgetter",
        "operator.attrgetter",
    }
)  # fmt: skip
ITEMS_FUNCTIONS = frozenset(
    {"list", "tuple", "set", "frozenset", "dict", "sorted", "copy.copy", "numpy.array", "numpy.copy"}
)


def _listed(path: str, table: frozenset[str]) -> bool:
    """`path` or a module it is in is listed (`numpy.linalg.norm` by `numpy.linalg`)."""
    parts = path.split(".")
    return any(".".join(parts[:end]) in table for end in range(1, len(parts) + 1))


def function_changes_arguments(path: str | None) -> bool | None:
    """For a function by its dotted path (a builtin by its name; None if unknown): False if known
    to change none of its arguments, True if known to change them, None if the analysis cannot know."""
    if path is None:
        return None
    if path in ARGUMENT_CHANGING_FUNCTIONS:
        return True
    return False if _listed(path, READ_ONLY_FUNCTIONS) else None


def function_result(path: str | None) -> str:
    """'fresh', 'items' or 'view' (see VIEW_METHODS) for a call of the function at `path`."""
    if path is None or _listed(path, VIEW_FUNCTIONS) or function_changes_arguments(path) is not False:
        return "view"
    return "items" if path in ITEMS_FUNCTIONS else "fresh"


def method_result(method: str) -> str:
    """'fresh', 'items' or 'view' for a call of `method` on a value."""
    if method not in READ_ONLY_METHODS or method in VIEW_METHODS:
        return "view"
    return "items" if method in ITEMS_METHODS else "fresh"
