"""Adagrad, as torch.optim.Adagrad."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _check_fused_foreach, _check_nonnegative, _check_not_differentiable, _decayed_grad, _get_scalar_dtype,
    _new_step, Optimizer, _to_float, _use_grad_for_differentiable,
)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm, exactly as torch.optim.Adagrad.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-2)
        lr_decay (float, optional): learning rate decay (default: 0)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        initial_accumulator_value (float, optional): initial value of the sum of squares of gradients
            (default: 0)
        eps (float, optional): term added to the denominator (default: 1e-10)
        foreach, fused (bool, optional): accepted for compatibility; ember has one implementation.
        maximize (bool, optional): maximize the objective (default: False)
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)

        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

        if fused:
            self._need_device_dtype_check_for_fused = True
            self._step_supports_amp_scaling = True
        _check_fused_foreach(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)

        # Adagrad creates its state for every parameter at construction
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = (Tensor._make(np.array(0.0, dtype=np.float32)) if group["fused"]
                                 else _new_step())
                state["sum"] = Tensor._make(np.full_like(p._data, initial_accumulator_value))

    def __setstate__(self, state):
        super().__setstate__(state)
        fused = None
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            fused = group.setdefault("fused", None)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    dtype = _get_scalar_dtype(is_fused=fused) if group["fused"] else _get_scalar_dtype()
                    p_state["step"] = Tensor._make(np.array(float(p_state["step"]), dtype=dtype.np))

        state_values = list(self.state.values())
        step_is_tensor = (len(state_values) != 0) and isinstance(state_values[0]["step"], Tensor)
        if not step_is_tensor:
            for s in state_values:
                s["step"] = Tensor._make(np.array(float(s["step"]), dtype=_get_scalar_dtype(is_fused=fused).np))

    def share_memory(self):
        pass  # NumPy storage: nothing to move to shared memory

    def _init_group(self, group, params_with_grad, grads, state_sums, state_steps):
        for p in group["params"]:
            if p.grad is not None:
                params_with_grad.append(p)
                grads.append(p.grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = (Tensor._make(np.array(0.0, dtype=np.float32)) if group["fused"]
                                     else _new_step())
                    # PyTorch reads the optimizer-wide default here, not the group's value
                    state["sum"] = Tensor._make(np.full_like(p._data, self.defaults["initial_accumulator_value"]))
                state_sums.append(state["sum"])
                state_steps.append(state["step"])
        return False, False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad = []
            grads = []
            state_sums = []
            state_steps = []
            self._init_group(group, params_with_grad, grads, state_sums, state_steps)
            adagrad(params_with_grad, grads, state_sums, state_steps, lr=group["lr"],
                    weight_decay=group["weight_decay"], lr_decay=group["lr_decay"], eps=group["eps"],
                    foreach=group["foreach"], maximize=group["maximize"], differentiable=group["differentiable"],
                    fused=group["fused"])
        return loss


def adagrad(params, grads, state_sums, state_steps, fused=None, grad_scale=None, found_inf=None,
            has_sparse_grad=False, foreach=None, differentiable=False, has_complex=False, *, lr, weight_decay,
            lr_decay, eps, maximize):
    """Functional API of Adagrad (torch.optim.adagrad.adagrad): PyTorch's single-tensor algorithm, in place."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("ember's Adagrad does not support grad_scale / found_inf")
    lr = _to_float(lr)
    weight_decay = _to_float(weight_decay)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        p = param._data
        g = grad._data
        s = state_sum._data
        step_t._data += 1
        step = float(step_t._data)

        d, owned = _decayed_grad(p, g, weight_decay, maximize)

        clr = lr / (1 + (step - 1) * lr_decay)

        # state_sum.addcmul_(grad, grad, value=1)
        t = np.multiply(d, d, out=np.empty_like(d))
        np.add(s, t, out=s)
        # std = state_sum.sqrt().add_(eps)
        std = np.sqrt(s, out=t)
        np.add(std, eps, out=std)
        # param.addcdiv_(grad, std, value=-clr)
        u = np.multiply(d, -clr, out=d if owned else np.empty_like(d))
        np.divide(u, std, out=u)
        np.add(p, u, out=p)
        param._version[0] += 1
