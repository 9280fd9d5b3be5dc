import torch


def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
    for p in model.parameters():
        p.grad = None                                            # drop stale gradients
    N = x.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for start in range(0, N, micro_batch_size):
        xb = x[start:start + micro_batch_size]                   # (n, ...) n <= micro_batch_size
        yb = y[start:start + micro_batch_size]
        loss = loss_fn(model(xb), yb) * (xb.shape[0] / N)        # mean over n samples, weighted n / N
        loss.backward()                                          # .grad += d loss / d p
        total += loss.detach().double()
    return total.to(loss.dtype)                                  # () the full-batch mean loss
