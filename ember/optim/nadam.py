"""NAdam (Adam with Nesterov momentum), as torch.optim.NAdam."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _capturable_check, _check_betas, _check_nonnegative, _check_not_differentiable, _decayed_grad,
    _get_scalar_dtype, _lerp_, _new_step, Optimizer, _to_float, _use_grad_for_differentiable,
)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """Implements the NAdam algorithm, exactly as torch.optim.NAdam.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 2e-3)
        betas (tuple[float, float], optional): coefficients of the running averages of the gradient and
            its square (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        momentum_decay (float, optional): momentum decay psi (default: 4e-3)
        decoupled_weight_decay (bool, optional): AdamW-style decoupled weight decay (NAdamW) (default: False)
        foreach (bool, optional): accepted for compatibility; ember has one implementation.
        maximize (bool, optional): maximize the objective (default: False)
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    if not isinstance(p_state["step"], Tensor):
                        p_state["step"] = _new_step(float(p_state["step"]))
                    if not isinstance(p_state["mu_product"], Tensor):
                        p_state["mu_product"] = _new_step(float(p_state["mu_product"]))

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _new_step()
                # the running product of the momentum coefficients, a 0-d tensor of the scalar dtype
                state["mu_product"] = _new_step(1.0)
                state["exp_avg"] = Tensor._make(np.zeros_like(p._data))
                state["exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            mu_products.append(state["mu_product"])
            state_steps.append(state["step"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps = [], [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps)
            nadam(params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, beta1=beta1,
                  beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                  momentum_decay=group["momentum_decay"], eps=group["eps"], maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"], foreach=group["foreach"],
                  capturable=group["capturable"], differentiable=group["differentiable"])
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, decoupled_weight_decay=False,
          foreach=None, capturable=False, differentiable=False, has_complex=False, maximize=False, *, beta1, beta2,
          lr, weight_decay, momentum_decay, eps):
    """Functional API of NAdam (torch.optim.nadam.nadam): PyTorch's single-tensor algorithm, in place."""
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    for param, grad, exp_avg, exp_avg_sq, mu_product, step_t in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                                    mu_products, state_steps):
        step_t._data += 1
        step = float(step_t._data)
        p, m, v = param._data, exp_avg._data, exp_avg_sq._data
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0 and decoupled_weight_decay:
            np.multiply(p, 1 - lr * weight_decay, out=p)
            g, _ = _decayed_grad(p, grad._data, 0, maximize)
        else:
            g, _ = _decayed_grad(p, grad._data, weight_decay, maximize)
        # the momentum coefficients of this step and the next (Dozat's schedule)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # mu_product *= mu, in the scalar dtype, as PyTorch keeps it
        mu_product._data = np.multiply(mu_product._data, mu_product._data.dtype.type(mu))
        _lerp_(m, g, 1 - beta1)
        np.multiply(v, beta2, out=v)
        np.add(v, v.dtype.type(1 - beta2) * g * g, out=v)
        denom = np.sqrt(v / v.dtype.type(bias_correction2)) + v.dtype.type(eps)
        mu_prod = float(mu_product._data)
        mu_product_next = mu_prod * mu_next
        # param.addcdiv_(grad, denom, value=...) then param.addcdiv_(exp_avg, denom, value=...)
        np.add(p, p.dtype.type(-lr * (1.0 - mu) / (1.0 - mu_prod)) * g / denom, out=p)
        np.add(p, p.dtype.type((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom, out=p)
        param._version[0] += 1
