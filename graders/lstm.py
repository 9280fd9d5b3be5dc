"""Cases for the one-layer LSTM: outputs, final (h, c), and gradients (BPTT through autograd)
w.r.t. the input, the initial states and every weight on some cases. The run hook unpacks
the nn.LSTM-style return value (output, (h_n, c_n))."""

from drillcli.fixtures import Case, make_case

RETURNS = ("output", "h_n", "c_n")
REFERENCE_DTYPE = "float64"

PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")


def run(entry, kind, case, names):
    from drillcli.harness import WrongReturn, call, check_inputs_unchanged, gradients

    result, named = call(entry, kind, case)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], (tuple, list))
            and len(result[1]) == 2):
        raise WrongReturn("lstm must return (output, (h_n, c_n)), like nn.LSTM, got "
                          + (f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__))
    returned = {"output": result[0], "h_n": result[1][0], "c_n": result[1][1]}
    check_inputs_unchanged(case, named)
    return {**returned, **gradients(case, returned, named)}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, T, B, I, H, h0=True, c0=True, w_scale=None, x_scale=1.0, grad=False,
            noncontig=(), forget_bias=0.0, note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        k = w_scale if w_scale is not None else H ** -0.5       # nn.LSTM's init range is U(-1/sqrt(H), 1/sqrt(H))
        r = lambda *s, sc=1.0: (torch.randn(*s, generator=g, dtype=torch.float64) * sc).to(dt)  # noqa: E731
        b_ih = r(4 * H, sc=k)
        b_ih[H:2 * H] += forget_bias
        inputs = {"x": r(T, B, I, sc=x_scale), "h0": r(B, H) if h0 else None, "c0": r(B, H) if c0 else None,
                  "W_ih": r(4 * H, I, sc=k), "W_hh": r(4 * H, H, sc=k), "b_ih": b_ih, "b_hh": r(4 * H, sc=k)}
        grads = ()
        if grad:
            inputs["_upstream"] = r(T, B, H)
            grads = ("x",) + (("h0",) if h0 else ()) + (("c0",) if c0 else ()) + PARAMS
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=grads, noncontig=tuple(noncontig), note=note))

    t = torch.tensor
    # H = 1: the rows of W_ih / W_hh / biases are the gates i, f, g, o in this order
    out.append(make_case("readable-example", {
        "x": t([[[1.0]], [[-1.0]]]), "h0": None, "c0": None,
        "W_ih": t([[1.0], [2.0], [3.0], [4.0]]), "W_hh": t([[0.5], [0.5], [0.5], [0.5]]),
        "b_ih": t([0.0, 1.0, 0.0, 0.0]), "b_hh": t([0.0, 0.0, 0.0, 0.0])},
        dtype="float32", note="the example of the prompt: one unit, a different weight per gate (i, f, g, o)"))
    out.append(make_case("readable-gate-order", {
        "x": t([[[1.0, 0.0]]]), "h0": t([[0.0]]), "c0": t([[2.0]]),
        "W_ih": t([[10.0, 0.0], [-10.0, 0.0], [1.0, 0.0], [0.0, 0.0]]), "W_hh": t([[0.0], [0.0], [0.0], [0.0]]),
        "b_ih": t([0.0, 0.0, 0.0, 0.0]), "b_hh": t([0.0, 0.0, 0.0, 0.0])},
        dtype="float32", note="input gate open, forget gate closed: c_1 = tanh(1), so the order i, f, g, o is visible"))
    add("no-initial-state", 1, "float32", 4, 2, 3, 5, h0=False, c0=False, note="h0 = c0 = None means zeros")
    add("single-step", 2, "float32", 1, 3, 4, 6)
    add("batch-1", 3, "float32", 6, 1, 3, 4)
    add("input-ne-hidden", 4, "float32", 5, 3, 7, 2, note="I = 7, H = 2: W_ih is (4H, I) = (8, 7)")
    add("hidden-1", 5, "float32", 5, 2, 3, 1)
    add("long-sequence", 6, "float32", 60, 2, 4, 8)
    add("float64", 7, "float64", 8, 3, 5, 6)
    add("float64-long", 8, "float64", 40, 2, 3, 5)
    add("forget-bias-1", 9, "float32", 12, 2, 3, 4, forget_bias=1.0, note="forget-gate bias +1 (a common init)")
    add("saturating", 10, "float32", 6, 2, 4, 5, w_scale=30.0, x_scale=3.0,
        note="pre-activations around +-100: sigmoid / tanh saturate; exp-based formulas overflow to NaN")
    add("saturating-float64", 11, "float64", 6, 2, 4, 5, w_scale=300.0, x_scale=3.0,
        note="pre-activations around +-1000")
    add("only-h0", 12, "float32", 5, 2, 3, 4, c0=False, note="h0 given, c0 = None")
    add("wide", 13, "float32", 10, 4, 16, 32)
    add("noncontiguous", 14, "float32", 5, 3, 4, 6, noncontig=("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"),
        note="every tensor is a non-contiguous view")
    add("grad", 15, "float32", 5, 2, 3, 4, grad=True,
        note="gradients w.r.t. x, h0, c0 and every weight (backprop through time via autograd)")
    add("grad-no-state", 16, "float32", 4, 3, 2, 3, h0=False, c0=False, grad=True)
    add("grad-float64", 17, "float64", 7, 2, 4, 5, grad=True)
    add("grad-long", 18, "float64", 30, 2, 3, 4, grad=True, note="30 steps of backprop through time")
    add("grad-noncontiguous", 19, "float32", 4, 2, 3, 5, grad=True, noncontig=("x", "W_hh", "c0"))
    for i, (T, B, I, H) in enumerate([(3, 5, 2, 3), (9, 2, 6, 6), (2, 7, 1, 9)]):
        add(f"random-shapes-{i}", 20 + i, "float32" if i % 2 == 0 else "float64", T, B, I, H)
    return out
