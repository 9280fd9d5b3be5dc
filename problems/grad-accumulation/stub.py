import torch


def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
    """Gradient accumulation over micro-batches.

    model:  torch.nn.Module (deterministic: no dropout, no batch norm)
    loss_fn(pred, target) -> 0-dim tensor: the MEAN loss over the samples it is given
    x, y:   full batch, N samples along dim 0
    micro_batch_size: int >= 1; micro-batches are consecutive slices along dim 0, the last may be smaller.
    Never call the model on more than micro_batch_size samples at once.
    After the call every trainable parameter's .grad must equal the gradient of
    loss_fn(model(x), y) on the full batch (stale .grad values on entry are discarded).
    Returns that full-batch loss as a 0-dim tensor.
    """
    raise NotImplementedError
