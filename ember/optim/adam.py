"""Adam (and, with decoupled_weight_decay=True, AdamW), as torch.optim.Adam."""
import numpy as np

from ember.tensor import Tensor
from ember.optim.optimizer import (
    _capturable_check, _check_fused_foreach, _check_nonnegative, _check_not_differentiable, _decayed_grad,
    _get_scalar_dtype, _in_slices, _lerp_, _new_step, Optimizer, _to_float, _to_scalar,
    _use_grad_for_differentiable,
)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """Implements the Adam algorithm, exactly as torch.optim.Adam.

    Args:
        params (iterable): iterable of parameters or named_parameters to optimize or iterable of dicts
            defining parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3)
        betas (tuple[float, float], optional): coefficients of the running averages of the gradient and
            its square (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        amsgrad (bool, optional): use the AMSGrad variant (default: False)
        maximize (bool, optional): maximize the objective (default: False)
        decoupled_weight_decay (bool, optional): AdamW's decoupled weight decay (default: False)
        foreach, fused (bool, optional): accepted for compatibility; ember has one implementation.
        capturable (bool, optional): as in PyTorch on the CPU, stepping with capturable=True fails.
        differentiable (bool, optional): must be False in ember.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_nonnegative(lr=lr, eps=eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_nonnegative(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        if isinstance(betas[0], Tensor):
            if not capturable and foreach:
                raise ValueError("betas[0] as a Tensor is not supported for capturable=False and foreach=True")
            if betas[0].numel() != 1:
                raise ValueError("Tensor betas[0] must be 1-element")
        if isinstance(betas[1], Tensor):
            if not capturable and foreach:
                raise ValueError("betas[1] as a Tensor is not supported for capturable=False and foreach=True")
            if betas[1].numel() != 1:
                raise ValueError("Tensor betas[1] must be 1-element")

        betas = tuple(map(_to_scalar, betas))

        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

        if fused:
            self._step_supports_amp_scaling = True
        _check_fused_foreach(fused, foreach, differentiable)
        _check_not_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            fused = group.setdefault("fused", None)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    step_val = float(p_state["step"])
                    dtype = _get_scalar_dtype(is_fused=fused) if group["capturable"] or group["fused"] \
                        else _get_scalar_dtype()
                    p_state["step"] = Tensor._make(np.array(step_val, dtype=dtype.np))

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps):
        for p in group["params"]:
            if p.grad is not None:
                params_with_grad.append(p)
                grads.append(p.grad)
                state = self.state[p]
                # Lazy state initialization
                if len(state) == 0:
                    state["step"] = (Tensor._make(np.array(0.0, dtype=np.float32))
                                     if group["capturable"] or group["fused"] else _new_step())
                    state["exp_avg"] = Tensor._make(np.zeros_like(p._data))
                    state["exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                if group["amsgrad"]:
                    max_exp_avg_sqs.append(state["max_exp_avg_sq"])
                if group["foreach"] and isinstance(group["lr"], Tensor) and not group["capturable"]:
                    raise RuntimeError("lr as a Tensor is not supported for capturable=False and foreach=True")
                state_steps.append(state["step"])
        return False

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params_with_grad = []
            grads = []
            exp_avgs = []
            exp_avg_sqs = []
            max_exp_avg_sqs = []
            state_steps = []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps)
            adam(params_with_grad, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                 amsgrad=group["amsgrad"], beta1=beta1, beta2=beta2, lr=group["lr"],
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                 foreach=group["foreach"], capturable=group["capturable"], differentiable=group["differentiable"],
                 fused=group["fused"], decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
         differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False,
         decoupled_weight_decay=False, *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize):
    """Functional API of Adam (torch.optim.adam.adam): PyTorch's single-tensor algorithm, in place."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("ember's Adam does not support grad_scale / found_inf")
    if capturable:
        _capturable_check(params)
    lr = _to_float(lr)
    beta1 = _to_float(beta1)
    beta2 = _to_float(beta2)
    weight_decay = _to_float(weight_decay)

    # the per-parameter scalars first, then the elementwise update over flat slices of the arrays
    # (split between threads, see _in_slices)
    scalars = []
    for i, param in enumerate(params):
        step_t = state_steps[i]
        step_t._data += 1
        step = float(step_t._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        scalars.append((lr / bias_correction1, bias_correction2 ** 0.5))
        param._version[0] += 1
    arrays = [[params[i]._data, grads[i]._data, exp_avgs[i]._data, exp_avg_sqs[i]._data]
              + ([max_exp_avg_sqs[i]._data] if amsgrad else []) for i in range(len(params))]

    def update(i, views):
        p, g, m, v = views[:4]
        step_size, bias_correction2_sqrt = scalars[i]
        # decoupled weight decay (AdamW) shrinks the parameter; coupled decay goes into the gradient
        if weight_decay != 0 and decoupled_weight_decay:
            np.multiply(p, 1 - lr * weight_decay, out=p)
            d, owned = _decayed_grad(p, g, 0, maximize)
        else:
            d, owned = _decayed_grad(p, g, weight_decay, maximize)

        # exp_avg.lerp_(grad, 1 - beta1)
        t = _lerp_(m, d, 1 - beta1)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        np.multiply(v, beta2, out=v)
        np.multiply(d, 1 - beta2, out=t)
        np.multiply(t, d, out=t)
        np.add(v, t, out=v)

        if amsgrad:
            vmax = views[4]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
        denom = np.sqrt(v, out=d if owned else np.empty_like(v))
        np.divide(denom, bias_correction2_sqrt, out=denom)
        np.add(denom, eps, out=denom)
        # param.addcdiv_(exp_avg, denom, value=-step_size)
        np.multiply(m, -step_size, out=t)
        np.divide(t, denom, out=t)
        np.add(p, t, out=p)
    _in_slices(arrays, update)
