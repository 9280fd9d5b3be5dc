"""Cases for gradient accumulation. The run hook builds the model from the case's weights,
puts stale values in every .grad, counts the batch size of every forward call, calls the
entry and returns the loss and the concatenated gradients of the trainable parameters."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss", "grads")
REFERENCE_DTYPE = "float64"
STATE = "_state."


def _model(case):
    import torch
    from torch import nn

    v = case.inputs
    state = {k[len(STATE):]: torch.from_numpy(v[k].copy()) for k in v if k.startswith(STATE)}
    dtype = next(iter(state.values())).dtype
    if v["_model"] == "mlp":
        d_in, hidden, d_out = state["0.weight"].shape[1], state["0.weight"].shape[0], state["2.weight"].shape[0]
        model = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, d_out))
    else:   # a tiny language model: token embedding -> linear head
        vocab, d = state["0.weight"].shape
        model = nn.Sequential(nn.Embedding(vocab, d), nn.Linear(d, vocab))
    model = model.to(dtype)
    model.load_state_dict(state)
    for name, p in model.named_parameters():
        p.requires_grad_(name not in v["_frozen"].split(","))
    return model


def _loss_fn(kind):
    import torch.nn.functional as F

    if kind == "mse":
        return F.mse_loss
    if kind == "ce":
        return F.cross_entropy
    return lambda logits, y: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, check_inputs_unchanged, to_user

    model = _model(case)
    g = torch.Generator().manual_seed(case.seed or 0)
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:   # last step's gradients, never zeroed
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype)
    sizes = []
    model.register_forward_pre_hook(lambda module, args: sizes.append(args[0].shape[0]))
    mb = case.inputs["micro_batch_size"]
    named = {"x": to_user(case, "x"), "y": to_user(case, "y")}
    loss = entry(model, _loss_fn(case.inputs["_loss"]), named["x"], named["y"], mb)
    check_inputs_unchanged(case, named)
    if not sizes:
        raise WrongReturn("the model was never called")
    if max(sizes) > mb:
        raise WrongReturn(f"the model was called on {max(sizes)} samples at once; micro_batch_size is {mb}: "
                          f"never run more than one micro-batch through the model")
    if sum(sizes) < len(named["x"]):
        raise WrongReturn(f"the model saw {sum(sizes)} of {len(named['x'])} samples: every sample goes through the "
                          f"model once (keep the last, smaller micro-batch when micro_batch_size does not divide N)")
    if isinstance(loss, (int, float)):
        loss = torch.tensor(float(loss), dtype=trainable[0].dtype)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise WrongReturn(f"accumulate_gradients must return the full-batch loss as a 0-dim tensor, got "
                          f"{type(loss).__name__}" + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else ""))
    grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1) for p in trainable]
    return {"loss": loss.detach(), "grads": torch.cat(grads)}


def cases() -> list[Case]:
    import torch
    from torch import nn

    out: list[Case] = []

    def add(name, seed, dtype, N, mb, model="mlp", loss="mse", dims=(4, 8, 3), T=5, frozen=(), note="",
            noncontig=()):
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        if model == "mlp":
            d_in, hidden, d_out = dims
            net = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, d_out)).to(dtype)
            x = torch.randn(N, d_in, generator=g, dtype=torch.float64).to(dtype)
            y = (torch.randn(N, d_out, generator=g, dtype=torch.float64).to(dtype) if loss == "mse"
                 else torch.randint(0, d_out, (N,), generator=g))
        else:
            vocab, d = dims[:2]
            net = nn.Sequential(nn.Embedding(vocab, d), nn.Linear(d, vocab)).to(dtype)
            x = torch.randint(0, vocab, (N, T), generator=g)
            y = torch.randint(0, vocab, (N, T), generator=g)
        state = {STATE + k: v.detach().clone() for k, v in net.state_dict().items()}
        inputs = {"x": x, "y": y, "micro_batch_size": mb, "_model": model, "_loss": loss, "_frozen": ",".join(frozen)}
        out.append(make_case(name, inputs | state, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig)))

    f32, f64 = torch.float32, torch.float64
    add("readable-even-split", 1, f32, 4, 2, dims=(2, 3, 1), note="N = 4 in two micro-batches of 2")
    add("uneven-split", 2, f32, 10, 4, note="micro-batches of 4, 4, 2: weight each by its size / N, not 1 / 3")
    add("uneven-split-float64", 3, f64, 7, 3, note="3, 3, 1: the last micro-batch holds one sample")
    add("micro-batch-1", 4, f32, 6, 1, note="one sample per micro-batch")
    add("micro-batch-equals-batch", 5, f32, 5, 5, note="a single micro-batch: plain backward")
    add("micro-batch-larger-than-batch", 6, f32, 3, 8, note="micro_batch_size > N: one (short) micro-batch")
    add("classification-ce", 7, f32, 9, 4, loss="ce", dims=(5, 8, 4), note="cross-entropy over 4 classes")
    add("classification-ce-float64", 8, f64, 11, 5, loss="ce", dims=(3, 6, 5))
    add("tiny-lm", 9, f32, 6, 4, model="lm", loss="lm-ce", dims=(11, 6), T=5,
        note="embedding + linear head over (N, T) tokens; the loss is the mean over all N * T tokens")
    add("tiny-lm-float64", 10, f64, 5, 2, model="lm", loss="lm-ce", dims=(7, 4), T=3)
    add("frozen-first-layer", 11, f32, 8, 3, frozen=("0.weight", "0.bias"),
        note="the first layer is frozen (requires_grad=False): only the head's gradients are checked")
    add("many-micro-batches", 12, f32, 32, 3, note="11 micro-batches, the last of 2")
    add("wide-mlp", 13, f32, 12, 5, dims=(16, 32, 8))
    add("single-sample", 14, f32, 1, 4, note="N = 1")
    add("prime-batch", 15, f64, 13, 4, loss="ce", dims=(4, 5, 3), note="13 = 4 + 4 + 4 + 1")
    add("lm-uneven", 16, f32, 7, 2, model="lm", loss="lm-ce", dims=(9, 5), T=4, note="micro-batches 2, 2, 2, 1")
    add("float64-mse", 17, f64, 9, 2, dims=(3, 4, 2))
    add("noncontiguous-input", 19, f32, 10, 3, loss="ce", dims=(6, 5, 4), noncontig=("x", "y"),
        note="x and y are non-contiguous views: slicing them must still work")
    add("frozen-head-lm", 18, f32, 6, 4, model="lm", loss="lm-ce", dims=(8, 4), T=3, frozen=("1.weight", "1.bias"),
        note="a frozen head: only the embedding's gradient is checked")
    for i, (N, mb) in enumerate([(15, 6), (20, 7), (6, 4)]):
        add(f"random-{i}", 20 + i, f32 if i % 2 == 0 else f64, N, mb, loss=["mse", "ce", "mse"][i],
            dims=(3 + i, 5 + i, 2 + i))
    return out
