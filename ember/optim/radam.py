"""RAdam (Adam with a rectified adaptive learning rate), as torch.optim.RAdam."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _restore_groups,
    _capturable_check, _check_betas, _check_nonnegative, _check_not_differentiable, _decayed_grad, _lerp_,
    _new_step, Optimizer, _to_float, _use_grad_for_differentiable,
)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """Implements the RAdam algorithm, exactly as torch.optim.RAdam.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3)
        betas (tuple[float, float], optional): coefficients of the running averages of the gradient and
            its square (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        decoupled_weight_decay (bool, optional): AdamW-style decoupled weight decay (default: False)
        foreach (bool, optional): accepted for compatibility; ember has one implementation.
        maximize (bool, optional): maximize the objective (default: False)
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        _restore_groups(self, foreach=None, maximize=False, differentiable=False, decoupled_weight_decay=False, capturable=False)

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _new_step()
                state["exp_avg"] = Tensor._make(np.zeros_like(p._data))
                state["exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            state_steps.append(state["step"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps = [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps)
            radam(params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps, beta1=beta1, beta2=beta2,
                  lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                  maximize=group["maximize"], foreach=group["foreach"], capturable=group["capturable"],
                  differentiable=group["differentiable"], decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, decoupled_weight_decay=False, foreach=None,
          differentiable=False, capturable=False, has_complex=False, maximize=False, *, beta1, beta2, lr,
          weight_decay, eps):
    """Functional API of RAdam (torch.optim.radam.radam): PyTorch's single-tensor algorithm, in place."""
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    for param, grad, exp_avg, exp_avg_sq, step_t in zip(params, grads, exp_avgs, exp_avg_sqs, state_steps):
        step_t._data += 1
        step = float(step_t._data)
        p, m, v = param._data, exp_avg._data, exp_avg_sq._data
        if weight_decay != 0 and decoupled_weight_decay:
            np.multiply(p, 1 - lr * weight_decay, out=p)
            g, _ = _decayed_grad(p, grad._data, 0, maximize)
        else:
            g, _ = _decayed_grad(p, grad._data, weight_decay, maximize)
        _lerp_(m, g, 1 - beta1)
        np.multiply(v, beta2, out=v)
        np.add(v, v.dtype.type(1 - beta2) * g * g, out=v)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = m / p.dtype.type(bias_correction1) * p.dtype.type(lr)
        # the length of the approximated simple moving average decides whether the variance is tractable
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = p.dtype.type(bias_correction2 ** 0.5) / (np.sqrt(v) + p.dtype.type(eps))
            update = update * adaptive_lr * p.dtype.type(rect)
        np.subtract(p, update, out=p)
        param._version[0] += 1
