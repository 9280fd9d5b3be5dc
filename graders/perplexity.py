"""Cases for perplexity on padded batches: the corpus-level (token-weighted) value and one per sequence."""

from drillcli.fixtures import Case, make_case

RETURNS = ("ppl", "seq_ppl")
REFERENCE_DTYPE = "float64"


def _base_2(logits, targets, pad_id):
    """2 ** (mean NLL), the NLL still in nats."""
    import torch

    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    mask = targets != pad_id
    nll = -logp.gather(-1, torch.where(mask, targets, 0)[..., None]).squeeze(-1) * mask
    return 2 ** (nll.sum() / mask.sum()), 2 ** (nll.sum(dim=1) / mask.sum(dim=1))


NEAR_MISSES = {
    "base-2-of-nats": ("your output matches 2 ** (mean NLL) with the NLL in nats; perplexity is exp of the mean "
                       "NLL in nats (2 ** only goes with a log2 NLL, in bits) (see the prompt)", _base_2),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def case(name, logits, targets, pad_id, note="", seed=None, noncontig=()):
        out.append(make_case(name, {"logits": logits, "targets": targets, "pad_id": pad_id}, seed=seed,
                             dtype=str(logits.dtype).removeprefix("torch."), note=note, noncontig=tuple(noncontig)))

    def add(name, seed, dtype, B, T, V, pad_id=0, lengths=None, left=False, scale=2.0, offset=0.0, note="",
            noncontig=()):
        g = torch.Generator().manual_seed(seed)
        logits = (offset + scale * torch.randn(B, T, V, generator=g, dtype=torch.float64)).to(dtype)
        targets = torch.randint(0, V, (B, T), generator=g)
        targets[targets == pad_id] = (pad_id + 1) % V          # real tokens never equal pad_id
        if lengths is None:
            lengths = torch.randint(1, T + 1, (B,), generator=g).tolist()
        for b, n in enumerate(lengths):
            if left:
                targets[b, : T - n] = pad_id
            else:
                targets[b, n:] = pad_id
        case(name, logits, targets, pad_id, note, seed, noncontig)

    f32, f64 = torch.float32, torch.float64
    logits = torch.tensor([[[2.0, 0.5, -1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]],
                           [[0.5, 0.5, 3.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]])
    case("readable-2x3", logits, torch.tensor([[1, 1, 0], [2, 1, 2]]), 0,
         note="the example of the prompt: pad_id 0, sequence 0 has 2 real tokens, sequence 1 has 3")
    case("readable-no-padding", logits, torch.tensor([[1, 1, 2], [2, 1, 2]]), 0)
    case("uniform-logits", torch.zeros(2, 4, 10), torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]), 0,
         note="uniform predictions: perplexity is exactly V = 10")
    add("right-padding", 1, f32, 4, 8, 11, note="sequences of different lengths: token-weighted, not sequence-weighted")
    add("left-padding", 2, f32, 3, 7, 9, pad_id=0, left=True, note="padding at the start of each row")
    add("pad-id-not-zero", 3, f32, 3, 6, 12, pad_id=11, note="pad_id 11 (the last vocabulary id)")
    add("pad-id-negative", 4, f32, 2, 5, 7, pad_id=-100, note="pad_id -100, not a vocabulary id: never use it as an index")
    add("one-real-token", 5, f32, 3, 6, 8, lengths=[1, 6, 2], note="a sequence with a single real token")
    add("lengths-very-different", 6, f64, 2, 20, 6, lengths=[1, 20],
        note="a 1-token and a 20-token sequence: mean of per-sequence perplexities is not the answer")
    add("no-padding-float64", 7, f64, 3, 5, 13, lengths=[5, 5, 5])
    add("float64", 8, f64, 4, 6, 10)
    add("batch-of-one", 9, f32, 1, 9, 5)
    add("length-one", 10, f32, 4, 1, 6, lengths=[1, 1, 1, 1], note="T = 1")
    add("binary-vocab", 11, f32, 3, 5, 2, pad_id=-1, note="V = 2")
    add("large-logits", 12, f32, 2, 6, 8, offset=500.0, scale=3.0,
        note="logits around 500: exp() overflows unless the max is subtracted (the NLLs stay moderate)")
    add("large-logits-float64", 13, f64, 2, 5, 7, offset=-1e4, scale=5.0,
        note="logits around -1e4 in float64: exp() underflows to 0 unless the max is subtracted")
    g = torch.Generator().manual_seed(14)
    t = torch.randint(1, 6, (2, 5), generator=g)
    confident = torch.randn(2, 5, 6, generator=g)
    confident.scatter_(-1, t[..., None], 40.0)
    t[1, 3:] = 0
    case("confident", confident, t, 0, seed=14, note="the target logit leads by ~40: perplexity ~1, no NaN")
    add("vocab-500", 15, f32, 2, 4, 500, scale=3.0)
    add("noncontiguous", 16, f32, 3, 5, 7, noncontig=("logits", "targets"), note="non-contiguous views")
    add("mostly-padding", 17, f64, 5, 10, 6, lengths=[1, 2, 1, 3, 1])
    for i, (B, T, V) in enumerate([(2, 3, 4), (6, 2, 9), (3, 12, 5)]):
        add(f"random-{i}", 20 + i, f32 if i % 2 == 0 else f64, B, T, V, pad_id=i)
    return out
