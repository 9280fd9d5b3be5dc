"""Cases for token + learned position embeddings.

A custom `run` also checks the gradients that reach the two tables: after the forward
pass it backpropagates the case's `_upstream` (when given) and returns the gradients of
`tok_emb` and `pos_emb` (a row used several times must receive the sum of its upstream
gradients).
"""

from typing import Any

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def run(entry: Any, kind: str, case: Case, names: list[str]) -> dict[str, Any]:
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, instantiate

    args, named, state = build_inputs(case)
    module = instantiate(entry, case, state)
    out = module(*args)
    check_inputs_unchanged(case, named)
    res: dict[str, Any] = {"out": out}
    if "_upstream" in named:
        params = dict(module.named_parameters())
        for name in ("tok_emb", "pos_emb"):
            if name not in params:
                raise WrongReturn(f"{name} must be an nn.Parameter of the module (it is trained), not a buffer")
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            raise WrongReturn("the output is not connected to tok_emb / pos_emb (avoid .detach(), .data, torch.no_grad())")
        out.backward(named["_upstream"].to(out.dtype))
        for name in ("tok_emb", "pos_emb"):
            g = params[name].grad
            res[f"grad_{name}"] = g if g is not None else torch.zeros_like(params[name])
        res["out"] = out.detach()
    return res


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, B, L, vocab, max_len, d, start_pos=None, grad=False, idx=None,
            noncontig=False, note=""):
        g = torch.Generator().manual_seed(seed)
        if idx is None:
            idx = torch.randint(0, vocab, (B, L), generator=g)
        tok = torch.randn(vocab, d, generator=g, dtype=f64)
        pos = torch.randn(max_len, d, generator=g, dtype=f64)
        inputs = {"idx": idx} | ({"start_pos": start_pos} if start_pos is not None else {})
        inputs |= {"state.tok_emb": tok.to(dtype), "state.pos_emb": pos.to(dtype)}
        if grad:
            inputs["_upstream"] = torch.randn(*idx.shape, d, generator=g, dtype=f64).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             init={"vocab_size": vocab, "max_len": max_len, "d_model": d}, note=note,
                             noncontig=("idx",) if noncontig else ()))

    table = {"state.tok_emb": torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]]),
             "state.pos_emb": torch.tensor([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]])}
    small = {"vocab_size": 5, "max_len": 4, "d_model": 2}
    out.append(make_case("readable", {"idx": torch.tensor([[0, 3, 3], [4, 1, 2]])} | table,
                         dtype="float32", init=small, note="the example of the prompt"))
    out.append(make_case("readable-start-pos", {"idx": torch.tensor([[2]]), "start_pos": 3} | table,
                         dtype="float32", init=small,
                         note="one new token decoded at position 3: pos_emb[3] is added, not pos_emb[0]"))
    out.append(make_case("readable-grad-repeated-token", {"idx": torch.tensor([[3, 3, 3]])} | table
                         | {"_upstream": torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])},
                         dtype="float32", init=small,
                         note="token 3 used three times: its gradient row is the sum of the three upstream rows"))
    add("batch", 1, f32, 4, 6, 50, 16, 8)
    add("batch-1", 2, f32, 1, 5, 20, 8, 4)
    add("seq-1", 3, f32, 3, 1, 20, 8, 4, note="L = 1")
    add("full-length", 4, f32, 2, 16, 30, 16, 8, note="L = max_len: every position row is used")
    add("start-pos", 5, f32, 2, 3, 30, 16, 8, start_pos=5, note="positions 5, 6, 7")
    add("start-pos-end", 6, f64, 2, 4, 30, 16, 8, start_pos=12, note="start_pos + L = max_len: the last rows")
    add("decode-step-last-position", 7, f32, 3, 1, 30, 16, 8, start_pos=15, note="L = 1 at position max_len - 1")
    add("start-pos-zero-explicit", 8, f32, 2, 5, 30, 16, 8, start_pos=0)
    add("float64", 9, f64, 3, 7, 40, 10, 12)
    add("d-model-1", 10, f32, 2, 5, 10, 8, 1, note="d_model = 1")
    add("large-vocab", 11, f32, 2, 8, 5000, 8, 4, note="vocab 5000, ids across the whole range")
    add("boundary-ids", 12, f32, 2, 4, 10, 4, 3, idx=torch.tensor([[0, 9, 0, 9], [9, 9, 0, 0]]),
        note="ids 0 and vocab_size - 1 only")
    add("all-same-token", 13, f64, 2, 6, 10, 8, 4, idx=torch.full((2, 6), 7),
        note="one token everywhere: rows differ only by their position embedding")
    add("grad", 14, f32, 3, 5, 8, 8, 4, grad=True,
        note="gradients of tok_emb and pos_emb: repeated ids accumulate, pos rows sum over the batch")
    add("grad-float64-start-pos", 15, f64, 2, 4, 6, 10, 3, start_pos=3, grad=True,
        note="gradients with start_pos = 3: only pos_emb rows 3..6 get a gradient")
    add("noncontiguous-ids", 16, f32, 3, 5, 20, 8, 4, noncontig=True, note="idx is a non-contiguous view")
    add("empty-sequence", 17, f32, 2, 0, 10, 8, 4, note="L = 0: the output is (B, 0, d_model)")
    for i, (B, L, V, T, d, s) in enumerate([(2, 3, 7, 5, 6, 1), (5, 9, 100, 12, 16, 2), (1, 2, 3, 2, 5, 0)]):
        add(f"random-shapes-{i}", 20 + i, f32 if i % 2 == 0 else f64, B, L, V, T, d, start_pos=s)
    return out
