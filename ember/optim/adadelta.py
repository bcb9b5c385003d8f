"""Adadelta, as torch.optim.Adadelta."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _restore_groups,
    _capturable_check, _check_nonnegative, _check_not_differentiable, _decayed_grad, _new_step, Optimizer,
    _to_float, _use_grad_for_differentiable,
)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm, exactly as torch.optim.Adadelta.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): coefficient that scales delta before it is applied to the
            parameters (default: 1.0)
        rho (float, optional): coefficient of the running averages of the squared gradient and of the
            squared update (default: 0.9)
        eps (float, optional): term added to the denominator (default: 1e-6)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        foreach (bool, optional): accepted for compatibility; ember has one implementation.
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
        maximize (bool, optional): maximize the objective (default: False)
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        _restore_groups(self, foreach=None, maximize=False, differentiable=False, capturable=False)

    def _init_group(self, group, params_with_grad, grads, square_avgs, acc_deltas, state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _new_step()
                state["square_avg"] = Tensor._make(np.zeros_like(p._data))
                state["acc_delta"] = Tensor._make(np.zeros_like(p._data))
            square_avgs.append(state["square_avg"])
            acc_deltas.append(state["acc_delta"])
            state_steps.append(state["step"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, square_avgs, acc_deltas, state_steps = [], [], [], [], []
            self._init_group(group, params_with_grad, grads, square_avgs, acc_deltas, state_steps)
            adadelta(params_with_grad, grads, square_avgs, acc_deltas, state_steps, lr=group["lr"],
                     rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"], foreach=group["foreach"], capturable=group["capturable"],
                     differentiable=group["differentiable"])
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, capturable=False, foreach=None,
             differentiable=False, has_complex=False, *, lr, rho, eps, weight_decay, maximize):
    """Functional API of Adadelta (torch.optim.adadelta.adadelta): PyTorch's single-tensor algorithm, in place."""
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    for param, grad, square_avg, acc_delta, step in zip(params, grads, square_avgs, acc_deltas, state_steps):
        step._data += 1
        p, v, u = param._data, square_avg._data, acc_delta._data
        g, _ = _decayed_grad(p, grad._data, weight_decay, maximize)
        # square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        np.multiply(v, rho, out=v)
        np.add(v, v.dtype.type(1 - rho) * g * g, out=v)
        # delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * grad
        std = np.sqrt(v + v.dtype.type(eps))
        delta = np.sqrt(u + u.dtype.type(eps)) / std * g
        # acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        np.multiply(u, rho, out=u)
        np.add(u, u.dtype.type(1 - rho) * delta * delta, out=u)
        # param.add_(delta, alpha=-lr)
        np.add(p, delta * p.dtype.type(-lr), out=p)
        param._version[0] += 1
