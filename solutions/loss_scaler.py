import torch


class DynamicLossScaler:
    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self.scale = float(init_scale)
        self.growth_factor, self.backoff_factor = growth_factor, backoff_factor
        self.growth_interval = growth_interval
        self.good_steps = 0                                  # consecutive steps without inf / NaN

    def scale_loss(self, loss):
        return loss * self.scale

    def step(self, grads):
        found_inf = any(not torch.isfinite(g).all() for g in grads)
        if found_inf:                                        # skip the update, back off, start counting again
            self.scale *= self.backoff_factor
            self.good_steps = 0
            return False
        for g in grads:
            g.mul_(1.0 / self.scale)                         # unscale in place with the scale used for backward
        self.good_steps += 1
        if self.good_steps == self.growth_interval:          # N good steps in a row: try a larger scale
            self.scale *= self.growth_factor
            self.good_steps = 0
        return True
