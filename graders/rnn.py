"""Cases for the one-layer tanh RNN: outputs, last hidden state, and gradients (BPTT through
autograd) w.r.t. the input, the initial state and every weight on some cases."""

from drillcli.fixtures import Case, make_case

RETURNS = ("output", "h_n")
REFERENCE_DTYPE = "float64"

PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, T, B, I, H, h0=True, w_scale=None, x_scale=1.0, grad=False, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        k = w_scale if w_scale is not None else H ** -0.5       # nn.RNN's init range is U(-1/sqrt(H), 1/sqrt(H))
        r = lambda *s, sc=1.0: (torch.randn(*s, generator=g, dtype=torch.float64) * sc).to(dt)  # noqa: E731
        inputs = {"x": r(T, B, I, sc=x_scale), "h0": r(B, H) if h0 else None,
                  "W_ih": r(H, I, sc=k), "W_hh": r(H, H, sc=k), "b_ih": r(H, sc=k), "b_hh": r(H, sc=k)}
        grads = ()
        if grad:
            inputs["_upstream"] = r(T, B, H)
            grads = ("x",) + (("h0",) if h0 else ()) + PARAMS
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=grads, noncontig=tuple(noncontig), note=note))

    t = torch.tensor
    out.append(make_case("readable-example", {
        "x": t([[[1.0]], [[2.0]], [[-1.0]]]), "h0": None, "W_ih": t([[0.5]]), "W_hh": t([[-1.0]]),
        "b_ih": t([0.1]), "b_hh": t([0.0])}, dtype="float32", note="the example of the prompt (T = 3, B = I = H = 1)"))
    out.append(make_case("readable-h0", {
        "x": t([[[1.0, 0.0]], [[0.0, 1.0]]]), "h0": t([[0.5, -0.5]]), "W_ih": t([[1.0, 0.0], [0.0, 1.0]]),
        "W_hh": t([[0.0, 1.0], [1.0, 0.0]]), "b_ih": t([0.0, 0.0]), "b_hh": t([0.1, -0.1])},
        dtype="float32", note="a given h0; W_hh swaps the two units, so W_hh vs W_hh.T matters"))
    add("no-h0", 1, "float32", 4, 2, 3, 5, h0=False, note="h0 = None means zeros")
    add("single-step", 2, "float32", 1, 3, 4, 6)
    add("batch-1", 3, "float32", 6, 1, 3, 4)
    add("input-ne-hidden", 4, "float32", 5, 3, 7, 2, note="I = 7, H = 2: W_ih is (H, I)")
    add("hidden-1", 5, "float32", 5, 2, 3, 1)
    add("long-sequence", 6, "float32", 60, 2, 4, 8)
    add("float64", 7, "float64", 8, 3, 5, 6)
    add("float64-long", 8, "float64", 40, 2, 3, 5)
    add("saturating", 9, "float32", 6, 2, 4, 5, w_scale=30.0, x_scale=3.0,
        note="pre-activations around +-100: tanh saturates; a tanh written with exp() overflows to NaN")
    add("saturating-float64", 10, "float64", 6, 2, 4, 5, w_scale=300.0, x_scale=3.0,
        note="pre-activations around +-1000")
    add("tiny-weights", 11, "float32", 6, 2, 3, 4, w_scale=1e-3, note="nearly linear regime")
    add("wide", 12, "float32", 10, 4, 16, 32)
    add("noncontiguous", 13, "float32", 5, 3, 4, 6, noncontig=("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"),
        note="every tensor is a non-contiguous view")
    add("grad", 14, "float32", 5, 2, 3, 4, grad=True,
        note="gradients w.r.t. x, h0 and every weight (backprop through time via autograd)")
    add("grad-no-h0", 15, "float32", 4, 3, 2, 3, h0=False, grad=True)
    add("grad-float64", 16, "float64", 7, 2, 4, 5, grad=True)
    add("grad-long", 17, "float64", 30, 2, 3, 4, grad=True, note="30 steps of backprop through time")
    add("grad-noncontiguous", 18, "float32", 4, 2, 3, 5, grad=True, noncontig=("x", "W_hh"))
    for i, (T, B, I, H) in enumerate([(3, 5, 2, 3), (9, 2, 6, 6), (2, 7, 1, 9)]):
        add(f"random-shapes-{i}", 20 + i, "float32" if i % 2 == 0 else "float64", T, B, I, H)
    return out
