"""Cases for the causal mask: sizes from 0 up, and the device argument (None, str, torch.device),
on the CPU and on the data-less `meta` device (in every CPU build of torch)."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("mask",)
WARM_IMPORTS = ("torch._dynamo",)   # the first torch.tril on meta imports it: once per warm server


def _upper(seq_len, device=None, *, diagonal=0):
    """torch.triu from `diagonal`: with diagonal=1 the masked-out entries (True = blocked),
    with diagonal=0 a mask that lets each query see the future instead of the past."""
    import torch

    return torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device), diagonal=diagonal)


NEAR_MISSES = {
    "true-means-blocked": ("your output matches the opposite polarity, True = blocked (nn.MultiheadAttention's "
                           "attn_mask, torch.triu(..., diagonal=1)); here True means may attend (see the prompt)",
                           partial(_upper, diagonal=1)),
    "future-not-past": ("your output matches the transposed mask, query i seeing keys j >= i (torch.triu); here "
                        "row i sees keys j <= i, a lower triangle (see the prompt)", _upper),
}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name, seq_len, device=..., as_object=False, note=""):
        inputs = {"seq_len": seq_len}
        if device is not ...:
            inputs["device"] = device
        if as_object:
            inputs["_device_object"] = True
        out.append(make_case(name, inputs, dtype="bool", note=note))

    add("readable-3", 3, note="the example of the prompt")
    add("length-1", 1, note="a single token sees itself: [[True]]")
    add("length-2", 2)
    add("length-4", 4)
    add("length-5-device-none", 5, None, note="device=None passed explicitly: the default device")
    add("empty", 0, note="seq_len = 0: an empty (0, 0) bool tensor")
    add("device-cpu-string", 6, "cpu", note='device given as the string "cpu"')
    add("device-cpu-object", 7, "cpu", as_object=True, note='device given as torch.device("cpu")')
    add("device-cpu-length-1", 1, "cpu", note='seq_len = 1 with device="cpu"')
    add("device-cpu-object-empty", 0, "cpu", as_object=True, note='seq_len = 0 with device=torch.device("cpu")')
    for n in (8, 10, 16, 17, 31, 32, 64, 100, 127, 128, 257):
        add(f"length-{n}", n)
    add("long-1000", 1000, note="a long sequence: 1,000,000 entries")
    add("device-meta-string", 5, "meta", note='device="meta": the mask must be created there (checked: device, shape, dtype)')
    add("device-meta-object", 3, "meta", as_object=True, note='device=torch.device("meta")')
    return out


def run(entry, kind, case, names):
    """Call causal_mask(seq_len[, device]); check the type and the device of the result.

    A meta tensor holds no values: its shape and dtype are compared through a CPU stand-in of
    zeros."""
    import torch

    from drillcli.harness import WrongReturn, build_inputs

    args, _, _ = build_inputs(case)
    want = None
    if len(args) > 1 and args[1] is not None:
        want = torch.device(args[1])
        if case.inputs.get("_device_object"):
            args[1] = want
    mask = entry(*args)
    if not isinstance(mask, torch.Tensor):
        raise WrongReturn(f"expected a torch.Tensor, got {type(mask).__name__}")
    if want is not None and mask.device.type != want.type:
        raise WrongReturn(f"the mask is on device '{mask.device}' but device={args[1]!r} was asked")
    if mask.is_meta:
        return {"mask": torch.zeros(mask.shape, dtype=mask.dtype)}
    return {"mask": mask}
