"""SGD: stochastic gradient descent with optional momentum / Nesterov / weight decay, as torch.optim.SGD."""
import numpy as np

from ember.backend.blas import axpy
from ember.tensor import Tensor
from ember.optim.optimizer import (
    _check_fused_foreach, _check_not_differentiable, _decayed_grad, _in_slices, Optimizer, _to_float,
    _use_grad_for_differentiable,
)

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), exactly as torch.optim.SGD.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3)
        momentum (float, optional): momentum factor (default: 0)
        dampening (float, optional): dampening for momentum (default: 0)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        nesterov (bool, optional): enables Nesterov momentum (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)
        foreach, fused (bool, optional): accepted for compatibility; ember has one implementation.
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            self._step_supports_amp_scaling = True
            self._need_device_dtype_check_for_fused = True
        _check_fused_foreach(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def _init_group(self, group, params, grads, momentum_buffer_list):
        for p in group["params"]:
            if p.grad is not None:
                params.append(p)
                grads.append(p.grad)
                if group["momentum"] != 0:
                    state = self.state[p]
                    momentum_buffer_list.append(state.get("momentum_buffer"))
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params = []
            grads = []
            momentum_buffer_list = []
            self._init_group(group, params, grads, momentum_buffer_list)
            sgd(params, grads, momentum_buffer_list, weight_decay=group["weight_decay"],
                momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
                nesterov=group["nesterov"], maximize=group["maximize"], foreach=group["foreach"],
                fused=group["fused"])
            if group["momentum"] != 0:
                for p, momentum_buffer in zip(params, momentum_buffer_list):
                    self.state[p]["momentum_buffer"] = momentum_buffer
        return loss


def sgd(params, d_p_list, momentum_buffer_list, has_sparse_grad=False, foreach=None, fused=None,
        grad_scale=None, found_inf=None, *, weight_decay, momentum, lr, dampening, nesterov, maximize):
    """Functional API of SGD (torch.optim.sgd.sgd); ``momentum_buffer_list`` entries are filled in place."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("ember's SGD does not support grad_scale / found_inf")
    lr = _to_float(lr)
    weight_decay = _to_float(weight_decay)
    use_momentum = momentum != 0
    first = [False] * len(params)      # the momentum buffer starts as a copy of the first gradient
    if use_momentum:
        for i, param in enumerate(params):
            if momentum_buffer_list[i] is None:
                momentum_buffer_list[i] = Tensor._make(np.empty_like(param._data))
                first[i] = True
            else:
                momentum_buffer_list[i]._version[0] += 1
    for param in params:
        param._version[0] += 1
    arrays = [[params[i]._data, d_p_list[i]._data] + ([momentum_buffer_list[i]._data] if use_momentum else [])
              for i in range(len(params))]

    def update(i, views):
        # PyTorch's single-tensor SGD, op for op; its add(alpha=) calls are axpy (one rounding each)
        p, g = views[0], views[1]
        d, owned = _decayed_grad(p, g, weight_decay, maximize)
        if use_momentum:
            b = views[2]
            if first[i]:
                np.copyto(b, d)                      # buf = grad.clone()
            else:
                np.multiply(b, momentum, out=b)      # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                if dampening:
                    axpy(1 - dampening, d, b)
                else:
                    np.add(b, d, out=b)              # (alpha 1: the same sum, without a BLAS call)
            if nesterov:                             # grad = grad.add(buf, alpha=momentum)
                d = axpy(momentum, b, d if owned else d.copy())
            else:
                d = b
        axpy(-lr, d, p)                              # param.add_(grad, alpha=-lr)
    # SGD's one to three passes: blocks pay on one thread only once the arrays outgrow L2, and split
    # between threads their many small calls cost more than they save (bench/README.md, "Session 8")
    _in_slices(arrays, update, blocks=(1 << 17, None))
