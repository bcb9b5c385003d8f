"""RMSprop, as torch.optim.RMSprop."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _capturable_check, _check_nonnegative, _check_not_differentiable, _decayed_grad, _lerp_, _new_step, Optimizer,
    _to_float, _use_grad_for_differentiable,
)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm, exactly as torch.optim.RMSprop.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-2)
        alpha (float, optional): smoothing constant (default: 0.99)
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        momentum (float, optional): momentum factor (default: 0)
        centered (bool, optional): normalize the gradient by an estimate of its variance (default: False)
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
        foreach (bool, optional): accepted for compatibility; ember has one implementation.
        maximize (bool, optional): maximize the objective (default: False)
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _new_step(float(p_state["step"]))

    def _init_group(self, group, params_with_grad, grads, square_avgs, momentum_buffer_list, grad_avgs,
                    state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            # State initialization
            if len(state) == 0:
                state["step"] = _new_step()
                state["square_avg"] = Tensor._make(np.zeros_like(p._data))
                if group["momentum"] > 0:
                    state["momentum_buffer"] = Tensor._make(np.zeros_like(p._data))
                if group["centered"]:
                    state["grad_avg"] = Tensor._make(np.zeros_like(p._data))
            square_avgs.append(state["square_avg"])
            state_steps.append(state["step"])
            if group["momentum"] > 0:
                momentum_buffer_list.append(state["momentum_buffer"])
            if group["centered"]:
                grad_avgs.append(state["grad_avg"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad = []
            grads = []
            square_avgs = []
            grad_avgs = []
            momentum_buffer_list = []
            state_steps = []
            self._init_group(group, params_with_grad, grads, square_avgs, momentum_buffer_list, grad_avgs,
                             state_steps)
            rmsprop(params_with_grad, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps,
                    lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], centered=group["centered"], foreach=group["foreach"],
                    maximize=group["maximize"], differentiable=group["differentiable"],
                    capturable=group["capturable"])
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, foreach=None,
            maximize=False, differentiable=False, capturable=False, has_complex=False, *, lr, alpha, eps,
            weight_decay, momentum, centered):
    """Functional API of RMSprop (torch.optim.rmsprop.rmsprop): PyTorch's single-tensor algorithm, in place."""
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    weight_decay = _to_float(weight_decay)
    for i, param in enumerate(params):
        p = param._data
        g = grads[i]._data
        sq = square_avgs[i]._data
        state_steps[i]._data += 1

        d, _ = _decayed_grad(p, g, weight_decay, maximize)

        # square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        np.multiply(sq, alpha, out=sq)
        t = np.multiply(d, 1 - alpha, out=np.empty_like(d))
        np.multiply(t, d, out=t)
        np.add(sq, t, out=sq)

        if centered:
            ga = grad_avgs[i]._data
            _lerp_(ga, d, 1 - alpha, scratch=t)
            # avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            avg = np.multiply(ga, ga, out=np.empty_like(ga))
            np.subtract(sq, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(sq, out=np.empty_like(sq))
        np.add(avg, eps, out=avg)

        if momentum > 0:
            b = momentum_buffer_list[i]._data
            # buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
            np.multiply(b, momentum, out=b)
            np.divide(d, avg, out=t)
            np.add(b, t, out=b)
            momentum_buffer_list[i]._version[0] += 1
            np.multiply(b, -lr, out=t)
            np.add(p, t, out=p)
        else:
            # param.addcdiv_(grad, avg, value=-lr)
            np.multiply(d, -lr, out=t)
            np.divide(t, avg, out=t)
            np.add(p, t, out=p)
        param._version[0] += 1
