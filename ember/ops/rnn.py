"""The recurrence of RNN, LSTM and GRU layers: one fused Function per layer and direction.

nn.RNN / nn.LSTM / nn.GRU compute the input projection of every time step as one GEMM (an ordinary
`linear` node, so its gradients flow through the graph); what is left is the loop over time, which
runs here on arrays:

    forward   for each step: one (B, P) x (P, G) GEMM with W_hh, then the gates' elementwise math
    backward  backpropagation through time on arrays; the gradients of W_hh (and W_hr) are one GEMM
              over all steps at the end, not one per step

Like PyTorch's cuDNN path, the fused backward is first-order only: differentiating it again
(create_graph=True through a recurrent layer) raises a clear error. nn.RNNCell / LSTMCell / GRUCell
are built from ordinary ops and have higher-order gradients.

Gates are PyTorch's, in PyTorch's order: LSTM (i, f, g, o), GRU (r, z, n) with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). Sigmoid is computed as 0.5 * tanh(x / 2) + 0.5:
one transcendental for all of an LSTM's gates, and no overflow warnings.

Variable-length (packed) batches run padded with a (T, B) mask: where a sequence has ended, the
state is carried unchanged, so the last processed step holds every sequence's final state (for
the reverse direction, the state stays h0 until the sequence's own last element).
"""
import numpy as np

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.backend.threads import single_threaded_blas
from ember.tensor import Tensor

_TWICE_MSG = ("the fused recurrence of nn.RNN/nn.LSTM/nn.GRU has first-order gradients only (like PyTorch's cuDNN "
              "path); use nn.RNNCell/LSTMCell/GRUCell in a loop for higher-order gradients")


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _tensor(a, like):
    return None if a is None else Tensor._make(np.ascontiguousarray(a, dtype=like.dtype))


class RecurrentLayer(Function):
    """inputs: xp (T, B, G) = x W_ih^T + b_ih, h0 (B, P), c0 (B, H) or None, W_hh (G, P), b_hh (G,) or None
    (nn.RNN and nn.LSTM pass None, having added b_hh to xp's bias), W_hr (P, H) or None. Output: the state after
    every step, (T, B, P) -- for LSTM (T, B, P + H), h then c."""
    stash = ("keep",)

    def forward(self, xp, h0, c0, w_hh, b_hh, w_hr, mode, reverse=False, mask=None):
        self.mode, self.reverse, self.w_hh, self.b_hh, self.w_hr = mode, reverse, w_hh, b_hh, w_hr
        self.mask = None if mask is None else mask[:, :, None].astype(xp.dtype)
        self.h0, self.c0 = h0, c0
        self.node_name = {"RNN_TANH": "RnnTanh", "RNN_RELU": "RnnRelu", "LSTM": "Lstm", "GRU": "Gru"}[mode] + \
            "Backward0"
        single_threaded_blas()
        return getattr(self, "_forward_" + mode.split("_")[0].lower())(xp)

    def backward(self, grad):
        if _GradState.enabled:
            raise RuntimeError(_TWICE_MSG)
        g = grad._data
        single_threaded_blas()
        if self.mode == "LSTM":
            return self._backward_lstm(g)
        if self.mode == "GRU":
            return self._backward_gru(g)
        return self._backward_rnn(g)

    # -- helpers shared by the three ---------------------------------------------------------
    def _mix(self, t, new, prev):
        """Where a sequence has ended (mask 0), carry the previous state."""
        if self.mask is None:
            return new
        m = self.mask[t]
        return prev + m * (new - prev)

    def _previous(self, states, initial):
        """The state each step started from, in sequence order: states shifted by one, initial at the start."""
        prev = np.empty_like(states)
        if self.reverse:
            prev[:-1] = states[1:]
            prev[-1] = initial
        else:
            prev[1:] = states[:-1]
            prev[0] = initial
        return prev

    def _weight_grads(self, dpre, prev):
        """dW_hh and db_hh from the per-step pre-activation gradients: one GEMM over all steps."""
        G = dpre.shape[-1]
        dw = db = None
        if self.next[3] is not None:
            dw = dpre.reshape(-1, G).T @ prev.reshape(-1, prev.shape[-1])
        if self.next[4] is not None:
            db = dpre.reshape(-1, G).sum(0)
        return dw, db

    # -- Elman RNN ---------------------------------------------------------------------------
    def _forward_rnn(self, xp):
        T, B, H = xp.shape
        out = np.empty_like(xp)
        new = np.empty_like(xp)   # before masking: the nonlinearity's output, which its derivative reads
        w_t = np.ascontiguousarray(self.w_hh.T)   # row-major: BLAS runs h @ W^T faster than from the view
        h = self.h0
        relu = self.mode == "RNN_RELU"
        for t in _steps(T, self.reverse):
            a = xp[t] + h @ w_t
            if self.b_hh is not None:
                a += self.b_hh
            if relu:
                np.maximum(a, 0, out=new[t])
            else:
                np.tanh(a, out=new[t])
            h = out[t] = self._mix(t, new[t], h)
        self.keep = (out, new)
        return out

    def _backward_rnn(self, g):
        out, new = self.keep
        T = g.shape[0]
        dpre = np.empty_like(g)
        dh = np.zeros_like(self.h0)
        relu = self.mode == "RNN_RELU"
        for t in _steps(T, not self.reverse):
            dh = dh + g[t]
            d = dh if self.mask is None else dh * self.mask[t]
            dpre[t] = d * (new[t] > 0) if relu else d * (1 - new[t] * new[t])
            carried = 0 if self.mask is None else dh - d
            dh = dpre[t] @ self.w_hh + carried
        dw, db = self._weight_grads(dpre, self._previous(out, self.h0))
        return _tensor(dpre, g), _tensor(dh, g), None, _tensor(dw, g), _tensor(db, g), None

    # -- LSTM --------------------------------------------------------------------------------
    def _gate_scale(self, H, dtype):
        """tanh(x * scale) * scale + shift is sigmoid for i, f, o and tanh for g."""
        scale = np.full(4 * H, 0.5, dtype=dtype)
        scale[2 * H:3 * H] = 1
        return scale, scale.copy() * (scale == 0.5)

    def _forward_lstm(self, xp):
        T, B, G = xp.shape
        H = G // 4
        P = self.h0.shape[-1]
        dt = xp.dtype
        scale, shift = self._gate_scale(H, dt)
        # the bias and the sigmoid's halving applied to all steps at once (and to W_hh's rows), not per step
        if self.b_hh is None:
            xs = xp * scale
        else:
            xs = xp + self.b_hh
            xs *= scale
        w_t = np.ascontiguousarray((self.w_hh * scale[:, None]).T)   # row-major, as for the Elman RNN
        act = np.empty_like(xp)                  # the gates i, f, g, o after their nonlinearities
        tanh_c = np.empty((T, B, H), dt)
        proj_in = np.empty((T, B, H), dt) if self.w_hr is not None else None
        out = np.empty((T, B, P + H), dt)
        cell_new = np.empty((T, B, H), dt) if self.mask is not None else None
        w_hr_t = None if self.w_hr is None else self.w_hr.T
        direct = self.mask is None and w_hr_t is None   # write h and c straight into the output
        ig = np.empty((B, H), dt)
        h, c = self.h0, self.c0
        for t in _steps(T, self.reverse):
            a = act[t]
            np.matmul(h, w_t, out=a)
            a += xs[t]
            np.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            cn = out[t, :, P:] if self.mask is None else cell_new[t]
            np.multiply(f, c, out=cn)
            np.multiply(i, gg, out=ig)
            cn += ig
            tc = np.tanh(cn, out=tanh_c[t])
            if direct:
                h = np.multiply(o, tc, out=out[t, :, :P])
                c = cn
                continue
            r = o * tc
            if w_hr_t is not None:
                proj_in[t] = r
                r = r @ w_hr_t
            h = out[t, :, :P] = self._mix(t, r, h)
            c = cn if self.mask is None else self._mix(t, cn, c)
            out[t, :, P:] = c
        self.keep = (out, act, tanh_c, proj_in)
        return out

    def _backward_lstm(self, g):
        out, act, tanh_c, proj_in = self.keep
        T, B, _ = g.shape
        H = act.shape[-1] // 4
        P = self.h0.shape[-1]
        dpre = np.empty_like(act)
        dproj = np.empty((T, B, P), g.dtype) if proj_in is not None else None
        dh = np.zeros_like(self.h0)
        dc = np.zeros_like(self.c0)
        dcell = np.empty((B, H), g.dtype)
        deriv = np.empty((B, 4 * H), g.dtype)
        dtanh_c = np.empty((B, H), g.dtype)
        first = T - 1 if self.reverse else 0
        # step by step on arrays that stay in cache: the nonlinearities' derivatives too, which over all
        # steps at once would be passes over (T, B, 4H) arrays bigger than the cache
        for t in _steps(T, not self.reverse):
            dh += g[t, :, :P]
            dc += g[t, :, P:]
            if self.mask is not None:
                m = self.mask[t]
                dh_new, dc_new = dh * m, dc * m
                dh_keep, dc_keep = dh - dh_new, dc - dc_new
            else:
                dh_new, dc_new = dh, dc
            if dproj is not None:
                dproj[t] = dh_new
                dh_new = dh_new @ self.w_hr
            a = act[t]
            i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            np.subtract(1, a, out=deriv)          # a(1 - a) for the sigmoids, 1 - g^2 for tanh
            deriv *= a
            dg = deriv[:, 2 * H:3 * H]
            np.multiply(gg, gg, out=dg)
            np.subtract(1, dg, out=dg)
            tc = tanh_c[t]
            np.multiply(tc, tc, out=dtanh_c)
            np.subtract(1, dtanh_c, out=dtanh_c)
            np.multiply(dh_new, o, out=dcell)
            dcell *= dtanh_c
            dcell += dc_new
            d = dpre[t]
            c_prev = self.c0 if t == first else out[t - 1 if not self.reverse else t + 1, :, P:]
            np.multiply(dcell, gg, out=d[:, :H])
            np.multiply(dcell, c_prev, out=d[:, H:2 * H])
            np.multiply(dcell, i, out=d[:, 2 * H:3 * H])
            np.multiply(dh_new, tc, out=d[:, 3 * H:])
            d *= deriv
            dh = d @ self.w_hh
            dc = dcell * f
            if self.mask is not None:
                dh += dh_keep
                dc += dc_keep
        dw, db = self._weight_grads(dpre, self._previous(out[:, :, :P], self.h0))
        dw_hr = None
        if proj_in is not None and self.next[5] is not None:
            dw_hr = dproj.reshape(-1, P).T @ proj_in.reshape(-1, H)
        return (_tensor(dpre, g), _tensor(dh, g), _tensor(dc, g), _tensor(dw, g), _tensor(db, g),
                _tensor(dw_hr, g))

    # -- GRU ---------------------------------------------------------------------------------
    def _forward_gru(self, xp):
        T, B, G = xp.shape
        H = G // 3
        dt = xp.dtype
        out = np.empty((T, B, H), dt)
        rz = np.empty((T, B, 2 * H), dt)          # the reset and update gates
        n_all = np.empty((T, B, H), dt)           # the candidate state
        hn_all = np.empty((T, B, H), dt)          # W_hn h + b_hn, which the reset gate scales
        # r and z: their bias b_hr, b_hz added to all steps at once, and the sigmoid's halving applied to those
        # steps and to W_hh's rows (exact: a power of two); b_hn stays apart, inside r * (W_hn h + b_hn)
        xs = xp[:, :, :2 * H] + self.b_hh[:2 * H] if self.b_hh is not None else xp[:, :, :2 * H].copy()
        xs *= 0.5
        half = np.ones(G, dt)
        half[:2 * H] = 0.5
        # a row-major copy of W^T: BLAS multiplies h @ W^T faster from it than from the transposed view
        w_t = np.ascontiguousarray((self.w_hh * half[:, None]).T)
        b_hn = None if self.b_hh is None else self.b_hh[2 * H:]
        hh = np.empty((B, G), dt)
        step = np.empty((B, H), dt)
        h = self.h0
        for t in _steps(T, self.reverse):
            np.matmul(h, w_t, out=hh)
            s = rz[t]
            np.add(hh[:, :2 * H], xs[t], out=s)
            np.tanh(s, out=s)
            s *= 0.5
            s += 0.5
            hn = hn_all[t]
            if b_hn is None:
                hn[...] = hh[:, 2 * H:]
            else:
                np.add(hh[:, 2 * H:], b_hn, out=hn)
            n = n_all[t]
            np.multiply(s[:, :H], hn, out=n)
            n += xp[t, :, 2 * H:]
            np.tanh(n, out=n)
            np.subtract(h, n, out=step)           # h' = n + z (h - n)
            step *= s[:, H:]
            if self.mask is None:
                h = np.add(n, step, out=out[t])
            else:
                h = out[t] = self._mix(t, n + step, h)
        self.keep = (out, rz, n_all, hn_all)
        return out

    def _backward_gru(self, g):
        out, rz, n_all, hn_all = self.keep
        T, B, H = g.shape
        prev = self._previous(out, self.h0)
        dxp = np.empty((T, B, 3 * H), g.dtype)
        dhh = np.empty((T, B, 3 * H), g.dtype)    # the gradient of W_hh h + b_hh: dxp's, with its n part scaled by r
        dh = np.zeros_like(self.h0)
        carried = np.empty_like(dh)
        one_minus = np.empty_like(dh)
        # step by step on (B, H) arrays that stay in cache, written into preallocated arrays (no temporaries)
        for t in _steps(T, not self.reverse):
            dh += g[t]
            d = dh if self.mask is None else dh * self.mask[t]
            r, z, n = rz[t, :, :H], rz[t, :, H:], n_all[t]
            dr, dz, dn = dxp[t, :, :H], dxp[t, :, H:2 * H], dxp[t, :, 2 * H:]
            np.subtract(1, z, out=one_minus)
            np.multiply(n, n, out=dn)             # dn = dh' (1 - z)(1 - n^2)
            np.subtract(1, dn, out=dn)
            dn *= one_minus
            dn *= d
            np.subtract(prev[t], n, out=dz)       # dz = dh' (h - n) z (1 - z)
            dz *= z
            dz *= one_minus
            dz *= d
            np.subtract(1, r, out=one_minus)
            np.multiply(dn, hn_all[t], out=dr)    # dr = dn (W_hn h + b_hn) r (1 - r)
            dr *= r
            dr *= one_minus
            dhh[t, :, :2 * H] = dxp[t, :, :2 * H]
            np.multiply(dn, r, out=dhh[t, :, 2 * H:])
            np.multiply(d, z, out=carried)
            if self.mask is not None:
                carried += dh
                carried -= d
            np.matmul(dhh[t], self.w_hh, out=dh)
            dh += carried
        dw, db = self._weight_grads(dhh, prev)
        return _tensor(dxp, g), _tensor(dh, g), None, _tensor(dw, g), _tensor(db, g), None
