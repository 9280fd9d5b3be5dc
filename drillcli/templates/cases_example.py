CORRECT = {
    "product": """
def $entry(x, scale):
    return x * scale
""",
    "torch-mul": """
import torch
def $entry(x, scale):
    return torch.mul(x, scale)
""",
    "flat-loop": """
def $entry(x, scale):
    flat = x.reshape(-1).clone()
    for i in range(flat.numel()):
        flat[i] = flat[i] * scale
    return flat.reshape(x.shape)
""",
}

BUGS = {
    "adds-scale": mutate(CORRECT["product"], ("x * scale", "x + scale")),
    "ignores-scale": mutate(CORRECT["product"], ("x * scale", "x * 2")),
    "float32-always": mutate(CORRECT["product"], ("x * scale", "x.float() * scale")),
    "in-place": mutate(CORRECT["product"], ("return x * scale", "return x.mul_(scale)")),
    "zero-scale-skipped": mutate(CORRECT["product"], ("return x * scale", "return x * scale if scale else x")),
}
