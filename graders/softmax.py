"""Cases for numpy softmax and log-softmax. The entry is `softmax`; the run hook also
calls the `log_softmax` defined in the same file, on a fresh copy of the same input, and
checks after each call that the input was not modified in place."""

import sys

import numpy as np

from drillcli.fixtures import Case, make_case

RETURNS = ("probs", "log_probs")


def _variant(axis_of, doc):
    """softmax and log_softmax normalised over axis_of(x, axis) (None: the whole array), the pair a
    near miss is written as; the run hook finds the log_softmax as an attribute of the softmax."""

    def log_softmax(x, axis=-1):
        ax = axis_of(x, axis)
        if x.size == 0:
            return x.copy()
        z = x - np.max(x, axis=ax, keepdims=True)
        return z - np.log(np.sum(np.exp(z), axis=ax, keepdims=True))

    def softmax(x, axis=-1):
        ax = axis_of(x, axis)
        if x.size == 0:
            return x.copy()
        e = np.exp(x - np.max(x, axis=ax, keepdims=True))
        return e / np.sum(e, axis=ax, keepdims=True)

    softmax.__doc__, softmax.log_softmax = doc, log_softmax
    return softmax


NEAR_MISSES = {
    "last-axis": ("your output matches a softmax over the last axis where `axis` names another one (is `axis` "
                  "ignored, or is axis=0 taken as 'not given'?); normalise along `axis`, one slice at a time "
                  "(see the prompt)", _variant(lambda x, axis: -1, "always the last axis")),
    "whole-array": ("your output matches one softmax over the whole array (scipy.special.softmax's default "
                    "axis=None); this problem normalises each 1-D slice along `axis` separately (see the prompt)",
                    _variant(lambda x, axis: None, "every element at once")),
}


def run(entry, kind, case, names):
    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged

    log_softmax = getattr(entry, "log_softmax", None)      # a near miss carries its own (see _variant)
    if not callable(log_softmax):
        log_softmax = getattr(sys.modules.get(entry.__module__), "log_softmax", None)
    if not callable(log_softmax):
        raise WrongReturn("your file must define log_softmax(x, axis=-1) next to softmax")
    args, named, _ = build_inputs(case)
    probs = entry(*args)
    check_inputs_unchanged(case, named)
    args, named, _ = build_inputs(case)
    log_probs = log_softmax(*args)
    check_inputs_unchanged(case, named)
    return {"probs": probs, "log_probs": log_probs}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name, x, axis=None, note="", seed=None):
        inputs = {"x": x} if axis is None else {"x": x, "axis": axis}
        out.append(make_case(name, inputs, seed=seed, dtype=str(x.dtype), note=note))

    def rand(seed, shape, dtype, scale=1.0, offset=0.0):
        rng = np.random.default_rng(seed)
        return (offset + scale * rng.standard_normal(shape)).astype(dtype)

    f32, f64 = np.float32, np.float64
    add("readable-vector", np.array([1.0, 2.0, 3.0]), note="the example of the prompt: a 1-D input")
    add("readable-rows", np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]], dtype=f32),
        note="the example of the prompt: row 1 holds +-1000")
    add("readable-axis0", np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]], dtype=f32), axis=0,
        note="axis=0: every column is normalised, not every row")
    add("logits-1000", np.array([1000.0, 1001.0, 1002.0], dtype=f32),
        note="exp(1000) overflows: subtract the max first")
    add("logits-minus-1000", np.array([-1000.0, -1001.0, -1002.0], dtype=f32),
        note="exp(-1000) underflows to 0: without the max shift this is 0/0")
    add("log-of-tiny-prob", np.array([[0.0, -1000.0, 1000.0], [5.0, -300.0, 2.0]], dtype=f64),
        note="log_softmax of -1000 next to 1000 is -2000: log(softmax(x)) gives log(0) = -inf")
    add("rows-on-different-scales", np.array([[1000.0, 999.0, 998.0], [0.0, -1.0, -2.0], [-900.0, -901.0, -950.0]], dtype=f32),
        note="each row needs its own max: one global max underflows the other rows to 0/0")
    add("masked-minus-inf", np.array([[0.5, -np.inf, 1.5, -np.inf], [-np.inf, -np.inf, 2.0, -np.inf],
                                      [1.0, 2.0, 3.0, 4.0]], dtype=f32),
        note="-inf entries (masked logits): probability exactly 0, log-probability -inf")
    add("square-last-axis", rand(1, (4, 4), f32, 3.0),
        note="square input: a max without keepdims broadcasts along the wrong axis without an error")
    add("square-axis0-float64", rand(2, (5, 5), f64, 3.0), axis=0)
    add("batch-3d-axis1", rand(3, (2, 5, 3), f32, 2.0), axis=1, note="reduce over the middle axis")
    add("batch-3d-axis0-float64", rand(4, (4, 3, 2), f64, 2.0), axis=0)
    add("heads-4d-axis-minus2", rand(5, (2, 3, 6, 4), f32, 2.0), axis=-2, note="negative axis other than -1")
    add("vocab-row-float32", rand(6, (3, 1000), f32, 4.0), note="a 1000-way row: sums of many small terms")
    add("axis-length-1", rand(7, (3, 1), f32), note="one element per slice: probability 1, log-probability 0")
    add("single-element", np.array([42.0], dtype=f64))
    add("empty-batch", np.zeros((0, 5), dtype=f32), note="no rows at all: return an empty (0, 5) array")
    add("constant-rows", np.full((2, 6), 7.5, dtype=f32), note="equal logits: uniform probabilities 1/6")
    add("nearly-equal-float64", 1e6 + rand(8, (3, 4), f64, 1e-6),
        note="logits 1e6 + tiny noise: only differences matter")
    add("hundreds-float32", rand(9, (4, 8), f32, 300.0), note="logits in the hundreds, both signs")
    add("huge-float64", rand(10, (3, 7), f64, 1e5), note="logits of 1e5: exp overflows even in float64")
    add("fortran-order", np.asfortranarray(rand(11, (5, 3), f64, 2.0)), note="a column-major (transposed-layout) array")
    add("transposed-view-axis0", rand(12, (6, 4), f32, 2.0).T.copy(order="F"), axis=0,
        note="a column-major float32 array normalised along axis 0")
    for i, (shape, axis) in enumerate([((7,), 0), ((3, 2, 5), -1), ((2, 9, 2), 1)]):
        add(f"random-shape-{i}", rand(20 + i, shape, f32 if i % 2 == 0 else f64, 1.5), axis=axis)
    return out
