"""Random inputs shared by the attention-family graders: masks and projection weights.

Not a problem of its own (no spec names it). Draws are made in float64 from the caller's
generator in a fixed order, so a fixture built from them is reproducible bit for bit.
"""


def random_mask(g, shape):
    """Bool mask, True = visible, about 60% visible, with key 0 visible in every row."""
    import torch

    mask = torch.rand(*shape, generator=g) < 0.6
    mask[..., 0] |= ~mask.any(-1)
    return mask


def nonbinary_mask(g, shape):
    """Integer mask drawn from {0, 1, 2, -1, 3}: nonzero means visible; key 0 always visible."""
    import torch

    values = torch.tensor([0, 1, 2, -1, 3])
    mask = values[torch.randint(0, 5, shape, generator=g)]
    mask[..., 0] = 1
    return mask


def projection_state(g, shapes, bias=True, qk_scale=1.0, qk_integer=None):
    """state_dict entries `state.<name>.weight` (out, in) and `.bias` (out,) for each projection.

    Weights are N(0, 1/in), with W_q and W_k scaled by qk_scale (to sharpen or flatten the
    softmax); biases are N(0, 0.25). With qk_integer = b, W_q and W_k (weights and biases) are
    integers in [-b, b] instead: on integer inputs their logits are exact in float32.
    """
    import torch

    state = {}
    for name, (n_out, n_in) in shapes.items():
        if qk_integer and name in ("W_q", "W_k"):
            state[f"state.{name}.weight"] = integer_values(g, (n_out, n_in), qk_integer)
            if bias:
                state[f"state.{name}.bias"] = integer_values(g, (n_out,), qk_integer)
            continue
        w = torch.randn(n_out, n_in, generator=g, dtype=torch.float64) / n_in ** 0.5
        state[f"state.{name}.weight"] = w * (qk_scale if name in ("W_q", "W_k") else 1.0)
        if bias:
            state[f"state.{name}.bias"] = 0.5 * torch.randn(n_out, generator=g, dtype=torch.float64)
    return state


def integer_values(g, shape, bound):
    """float64 tensor of integers in [-bound, bound]: small integer products and sums are exact in
    float32, so logits built from them hold no rounding even in the hundreds."""
    import torch

    return torch.randint(-bound, bound + 1, shape, generator=g).to(torch.float64)
