"""Cases for the manual MLP backward pass: the loss and the four gradients, compared with the
reference (computed in float64). The reference itself is checked against autograd in the
tests."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss", "dW1", "db1", "dW2", "db2")
REFERENCE_DTYPE = "float64"


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, N, D, H, C, w_scale=1.0, x_scale=1.0, b1_shift=0.0, noncontig=(), note="",
            integer=False):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        if integer:     # small integers: many pre-activations are exactly 0
            r = lambda *s, sc=1.0: torch.randint(-2, 3, s, generator=g).to(dt)  # noqa: E731
        else:
            r = lambda *s, sc=1.0: (torch.randn(*s, generator=g, dtype=torch.float64) * sc).to(dt)  # noqa: E731
        inputs = {"x": r(N, D, sc=x_scale), "y": torch.randint(0, C, (N,), generator=g),
                  "W1": r(H, D, sc=w_scale * D ** -0.5), "b1": r(H, sc=0.1) + b1_shift,
                  "W2": r(C, H, sc=w_scale * H ** -0.5), "b2": r(C, sc=0.1)}
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, noncontig=tuple(noncontig), note=note))

    t = torch.tensor
    out.append(make_case("readable-example", {
        "x": t([[1.0, 2.0], [-1.0, 0.5]]), "y": t([0, 1]),
        "W1": t([[0.5, -0.5], [1.0, 0.25], [-1.0, 1.0]]), "b1": t([0.0, 0.5, -0.5]),
        "W2": t([[1.0, -1.0, 0.5], [-0.5, 1.0, 1.0]]), "b2": t([0.1, -0.1])},
        dtype="float32", note="the example of the prompt (N = 2, D = 2, H = 3, C = 2)"))
    out.append(make_case("readable-relu-at-zero", {
        "x": t([[1.0, -1.0], [2.0, 1.0]]), "y": t([1, 0]),
        "W1": t([[1.0, 1.0], [1.0, -1.0]]), "b1": t([0.0, -2.0]),
        "W2": t([[1.0, 2.0], [0.5, -1.0]]), "b2": t([0.0, 0.0])},
        dtype="float32", note="pre-activations exactly 0 (x0·W1[0] and x0·W1[1] + b1[1]): ReLU'(0) = 0, as in PyTorch"))
    add("single-sample", 1, "float32", 1, 4, 5, 3, note="N = 1")
    add("binary", 2, "float32", 8, 3, 4, 2, note="C = 2")
    add("batch", 3, "float32", 16, 8, 12, 5)
    add("wide-hidden", 4, "float32", 6, 5, 64, 4)
    add("many-classes", 5, "float32", 10, 6, 8, 20)
    add("one-hidden-unit", 6, "float32", 5, 3, 1, 3, note="H = 1")
    add("float64", 7, "float64", 12, 7, 9, 4)
    add("float64-large-batch", 8, "float64", 64, 10, 16, 6)
    add("integer-zero-preactivations", 9, "float32", 12, 4, 6, 3, integer=True,
        note="integer inputs and weights: many pre-activations are exactly 0, where ReLU'(0) = 0")
    add("integer-zero-preactivations-float64", 10, "float64", 10, 3, 5, 4, integer=True)
    add("large-logits", 11, "float32", 8, 5, 6, 4, w_scale=30.0,
        note="logits in the hundreds: exp() without subtracting the row max overflows")
    add("large-logits-float64", 12, "float64", 8, 5, 6, 4, w_scale=300.0, note="logits in the thousands")
    add("dead-relus", 13, "float32", 8, 4, 6, 3, b1_shift=-50.0,
        note="every hidden unit is negative: h = 0, so dW1 = db1 = 0 and dW2 = 0")
    add("half-dead", 14, "float32", 10, 4, 8, 3, b1_shift=-0.5)
    add("large-inputs", 15, "float32", 8, 5, 6, 3, x_scale=100.0, w_scale=0.1)
    add("tiny-weights", 16, "float64", 8, 5, 6, 3, w_scale=1e-4, note="nearly uniform softmax")
    add("noncontiguous", 17, "float32", 8, 5, 6, 4, noncontig=("x", "W1", "b1", "W2", "b2"),
        note="every float tensor is a non-contiguous view")
    add("noncontiguous-float64", 18, "float64", 6, 4, 5, 3, noncontig=("x", "W2"))
    for i, (N, D, H, C) in enumerate([(3, 9, 2, 7), (20, 2, 10, 2), (7, 7, 7, 7)]):
        add(f"random-shapes-{i}", 20 + i, "float32" if i % 2 == 0 else "float64", N, D, H, C)
    return out
