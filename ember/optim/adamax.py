"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _restore_groups,
    _capturable_check, _check_betas, _check_nonnegative, _check_not_differentiable, _decayed_grad, _lerp_,
    _new_step, Optimizer, _to_float, _use_grad_for_differentiable,
)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """Implements the Adamax algorithm, exactly as torch.optim.Adamax.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 2e-3)
        betas (tuple[float, float], optional): coefficients of the running average of the gradient and
            of the decay of its infinity norm (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        foreach (bool, optional): accepted for compatibility; ember has one implementation.
        maximize (bool, optional): maximize the objective (default: False)
        differentiable (bool, optional): must be False in ember.
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        _restore_groups(self, foreach=None, maximize=False, differentiable=False, capturable=False)

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_infs, state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _new_step()
                state["exp_avg"] = Tensor._make(np.zeros_like(p._data))
                state["exp_inf"] = Tensor._make(np.zeros_like(p._data))
            exp_avgs.append(state["exp_avg"])
            exp_infs.append(state["exp_inf"])
            state_steps.append(state["step"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_infs, state_steps = [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_infs, state_steps)
            adamax(params_with_grad, grads, exp_avgs, exp_infs, state_steps, eps=group["eps"], beta1=beta1,
                   beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"], foreach=group["foreach"],
                   maximize=group["maximize"], differentiable=group["differentiable"],
                   capturable=group["capturable"])
        return loss


def adamax(params, grads, exp_avgs, exp_infs, state_steps, foreach=None, maximize=False, differentiable=False,
           capturable=False, has_complex=False, *, eps, beta1, beta2, lr, weight_decay):
    """Functional API of Adamax (torch.optim.adamax.adamax): PyTorch's single-tensor algorithm, in place."""
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    for param, grad, exp_avg, exp_inf, step in zip(params, grads, exp_avgs, exp_infs, state_steps):
        step._data += 1
        p, m, u = param._data, exp_avg._data, exp_inf._data
        g, _ = _decayed_grad(p, grad._data, weight_decay, maximize)
        _lerp_(m, g, 1 - beta1)
        # exp_inf = max(beta2 * exp_inf, |grad| + eps)
        np.multiply(u, beta2, out=u)
        np.maximum(u, np.abs(g) + p.dtype.type(eps), out=u)
        clr = lr / (1 - beta1 ** float(step._data))
        # param.addcdiv_(exp_avg, exp_inf, value=-clr)
        np.add(p, m * p.dtype.type(-clr) / u, out=p)
        param._version[0] += 1
