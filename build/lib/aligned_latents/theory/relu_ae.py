"""One-hidden-layer ReLU autoencoders on two opposite points (paper Section 5.4, Theorem 2,
Appendix G: Lemmas 3 and 4).

Setting: ``f(x) = A φ(B x)`` with ``A ∈ R^{d×h}``, ``B ∈ R^{h×d}`` (Theorem 2: ``h = 2d``),
``φ`` the ReLU, trained on ``X = {x, -x}`` with ``η = ||x||²``. Eq. (1)'s loss is
``L = ||x - A φ(Bx)||² + ||-x - A φ(-Bx)||²``. Initialization (Theorem 2):
``A0 = 0``, ``B0 = [x xᵀ; -x xᵀ] = w xᵀ`` with ``w = [x; -x]``.

All arrays are float64; training runs in torch with explicit gradients (checked against
autograd in the tests) because autograd costs several times more per step at d = 1001.
"""
from __future__ import annotations

import time

import numpy as np

from aligned_latents.util.validation import as_finite_array, check_int, check_positive

#: Dimension of ``x`` in the authors' companion check of Theorem 2
#: (``verification_of_theory/NonLinearCheck.ipynb`` of uhlerlab/latent_space_alignment:
#: ``D = 200``, norm 2, both points in every step, ``torch.nn.MSELoss``, SGD lr 0.1,
#: 10,000 steps). The paper's Appendix G states dimension 1001 instead.
COMPANION_D = 200


def _torch():
    import torch
    return torch


def relu(z):
    return np.maximum(z, 0.0)


def random_direction(d: int, norm: float = 2.0, seed: int = 0) -> np.ndarray:
    """A uniformly random direction in ``R^d`` (normalized Gaussian) scaled to ``norm``."""
    d = check_int(d, "d", minimum=1)
    norm = check_positive(norm, "norm")
    v = np.random.default_rng(seed).standard_normal(d)
    return norm * v / np.linalg.norm(v)


def _check_x(x) -> np.ndarray:
    x = as_finite_array(x, "x", ndim=1)
    if x.size == 0 or not np.any(x):
        raise ValueError("x must be a non-empty, non-zero vector")
    return x


def theorem2_init(x):
    """Theorem 2's initialization: ``A0 = 0 (d×2d)``, ``B0 = [x xᵀ; -x xᵀ] (2d×d)``."""
    x = _check_x(x)
    xx = np.outer(x, x)
    return np.zeros((x.size, 2 * x.size)), np.vstack([xx, -xx])


def theorem2_closed_form(eta: float) -> dict:
    """Theorem 2's closed forms for ``η = ||x||²`` (from ``α0 = 0``, ``β0 = 1``).

    * ``beta2 = (sqrt(η⁴ + 4)/η² + 1) / 2`` (Theorem 2 and Appendix G agree),
    * ``alpha_beta = 1/η²`` as derived in Appendix G (interpolation ``αβη² = 1``);
      ``alpha_beta_printed = 1/η`` as displayed in Theorem 2,
    * ``Bx_norm2 = η³ (sqrt(η⁴ + 4)/η² + 1)`` (the display's ``η² (...) ||x||²``),
    * ``alpha`` and ``beta`` with ``β² - α² = 1`` (Lemma 4's conservation).
    """
    eta = check_positive(eta, "eta")
    r = np.sqrt(eta ** 4 + 4.0) / eta ** 2
    beta2 = 0.5 * (r + 1.0)
    beta = np.sqrt(beta2)
    ab = 1.0 / eta ** 2
    return {"beta2": float(beta2), "beta": float(beta), "alpha": float(ab / beta),
            "alpha_beta": float(ab), "alpha_beta_printed": float(1.0 / eta),
            "Bx_norm2": float(eta ** 3 * (r + 1.0))}


# ---------------------------------------------------------------------------------------
# Loss and gradients
# ---------------------------------------------------------------------------------------
def relu_loss(A, B, x) -> float:
    """Eq. (1) on ``{x, -x}``: ``||x - Aφ(Bx)||² + ||-x - Aφ(-Bx)||²``."""
    x = _check_x(x)
    A = as_finite_array(A, "A", shape=(x.size, None))
    B = as_finite_array(B, "B", shape=(A.shape[1], x.size))
    r1 = A @ relu(B @ x) - x
    r2 = A @ relu(-B @ x) + x
    return float(r1 @ r1 + r2 @ r2)


def autograd_gradients(A, B, x):
    """``(∇_A L, ∇_B L)`` of :func:`relu_loss` by torch autograd (float64); torch takes
    ``φ'(0) = 0``."""
    torch = _torch()
    x = _check_x(x)
    A = as_finite_array(A, "A", shape=(x.size, None))
    B = as_finite_array(B, "B", shape=(A.shape[1], x.size))
    At = torch.tensor(A, requires_grad=True)
    Bt = torch.tensor(B, requires_grad=True)
    xt = torch.tensor(x)
    loss = (((At @ torch.relu(Bt @ xt) - xt) ** 2).sum()
            + ((At @ torch.relu(-Bt @ xt) + xt) ** 2).sum())
    loss.backward()
    return At.grad.numpy(), Bt.grad.numpy()


def lemma3_gradients(x, a, b, printed: bool = False):
    """Lemma 3's entrywise gradients of Eq. (1) at ``A = x aᵀ``, ``B = b xᵀ``.

    ``b_j > 0``: ``(∇_A L)_ij = 2η(η aᵀφ(b) - 1) x_i b_j`` and
    ``(∇_B L)_ji = 2η(η aᵀφ(b) - 1) x_i a_j``.

    ``b_j ≤ 0``: as derived in the proof (Appendix G), ``-2η(η aᵀφ(-b) + 1) x_i b_j`` and
    ``-2η(η aᵀφ(-b) + 1) x_i a_j``. With ``printed=True`` the lemma's *statement* is used,
    which has ``aᵀφ(b)`` in place of ``aᵀφ(-b)`` for ``b_j ≤ 0``.

    Returns ``(gA (d×h), gB (h×d))``.
    """
    x = _check_x(x)
    a = as_finite_array(a, "a", ndim=1)
    b = as_finite_array(b, "b", shape=a.shape)
    eta = float(x @ x)
    pos = b > 0
    neg_term = a @ relu(b) if printed else a @ relu(-b)
    coef = np.where(pos, 2 * eta * (eta * (a @ relu(b)) - 1.0), -2 * eta * (eta * neg_term + 1.0))
    gA = np.outer(x, coef * b)
    gB = np.outer(coef * a, x)
    return gA, gB


def rank_one_factors(A, B, x):
    """``a = Aᵀx/η`` and ``b = Bx/η``: the factors of ``A = x aᵀ``, ``B = b xᵀ`` (Lemma 3)."""
    x = _check_x(x)
    eta = float(x @ x)
    return np.asarray(A).T @ x / eta, np.asarray(B) @ x / eta


def rank_one_residuals(A, B, x):
    """Relative residuals of the best fit ``A ≈ x aᵀ``, ``B ≈ b xᵀ`` (Lemma 3's invariance):
    ``||A - x̂x̂ᵀA||_F / ||A||_F`` and ``||B - B x̂x̂ᵀ||_F / ||B||_F`` (0 for a zero matrix)."""
    x = _check_x(x)
    xh = x / np.linalg.norm(x)
    A = np.asarray(A)
    B = np.asarray(B)
    rA = np.linalg.norm(A - np.outer(xh, xh @ A))
    rB = np.linalg.norm(B - np.outer(B @ xh, xh))
    nA, nB = np.linalg.norm(A), np.linalg.norm(B)
    return (float(rA / nA) if nA > 0 else 0.0), (float(rB / nB) if nB > 0 else 0.0)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------
def train_relu(x, lr: float = 0.1, loss: str = "mse", batch_size: int = 1,
               max_steps: int = 5000, tol: float = 1e-10, record_every: int = 25,
               seed: int = 0, diverge_at: float = 1e12, threads: int | None = 1):
    """SGD on ``{x, -x}`` from Theorem 2's initialization, tracking Lemmas 3-4 along the way.

    Parameters
    ----------
    x : (d,) array
    lr : float
        Learning rate (the paper: 0.1).
    loss : 'sum' or 'mse'
        'sum' is Eq. (1) on the mini-batch (sum of squares); 'mse' is torch's
        ``MSELoss`` (mean over the batch and the d coordinates), i.e. Eq. (1) / (batch·d).
    batch_size : 1 or 2
        1: one of ``x, -x`` per step (order reshuffled each epoch with ``seed``); 2: both.
    max_steps, tol : stop after ``max_steps`` or when ``|1 - aᵀφ(b) η|`` and
        ``|1 + aᵀφ(-b) η|`` (Lemma 4's equilibrium) are both below ``tol``.
    record_every : record the trajectory every this many steps (and at the last step).
    diverge_at : stop (``diverged=True``) when the loss exceeds this or is not finite.
    threads : torch intra-op threads during training (restored afterwards); 1 is fastest for
        these matrix-vector products on a shared CPU. None leaves torch's setting.

    Returns
    -------
    dict with ``A``, ``B`` (final), ``trajectory`` (list of dicts: step, loss, alpha, beta,
    Bx_norm2, a_phi_b, a_phi_minus_b, rank1_residual_A, rank1_residual_B,
    conservation_residual, conservation_scale), ``steps``, ``seconds``, ``diverged``,
    ``converged``.

    Notes
    -----
    ``alpha = <A, B0ᵀ>/||B0||²`` and ``beta = <B, B0>/||B0||²`` (Theorem 2's ``A = αB0ᵀ``,
    ``B = βB0``). ``conservation_residual = max_i |(a_i² - a_i0²) - (b_i² - b_i0²)|``
    (Lemma 4) and ``conservation_scale = max_i |a_i² - a_i0²|`` to compare it with.
    """
    torch = _torch()
    x = _check_x(x)
    lr = check_positive(lr, "lr")
    if loss not in ("sum", "mse"):
        raise ValueError(f"loss must be 'sum' (Eq. 1) or 'mse', got {loss!r}")
    if batch_size not in (1, 2):
        raise ValueError(f"batch_size must be 1 or 2, got {batch_size!r}")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    tol = check_positive(tol, "tol")
    d = x.size
    eta = float(x @ x)
    A0, B0 = theorem2_init(x)
    a0, b0 = rank_one_factors(A0, B0, x)
    B0n2 = float(np.sum(B0 * B0))
    A = torch.tensor(A0)
    B = torch.tensor(B0)
    xt = torch.tensor(x)
    scale = 2.0 if loss == "sum" else 2.0 / (batch_size * d)  # d(loss)/d(residual) factor
    rng = np.random.default_rng(seed)
    order: list = []
    traj = []

    def record(step):
        An, Bn = A.numpy(), B.numpy()
        a, b = rank_one_factors(An, Bn, x)
        rA, rB = rank_one_residuals(An, Bn, x)
        da, db = a ** 2 - a0 ** 2, b ** 2 - b0 ** 2
        Bx = Bn @ x
        finite = np.all(np.isfinite(An)) and np.all(np.isfinite(Bn))
        row = {"step": step, "loss": relu_loss(An, Bn, x) if finite else float("inf"),
               "alpha": float(np.sum(An * B0.T) / B0n2),
               "beta": float(np.sum(Bn * B0) / B0n2),
               "Bx_norm2": float(Bx @ Bx), "a_phi_b": float(a @ relu(b)),
               "a_phi_minus_b": float(a @ relu(-b)), "rank1_residual_A": rA,
               "rank1_residual_B": rB,
               "conservation_residual": float(np.max(np.abs(da - db))),
               "conservation_scale": float(np.max(np.abs(da)))}
        traj.append(row)
        return row

    record(0)
    diverged = converged = False
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    start = time.perf_counter()
    step = 0
    try:  # (A, B do not require grad: no autograd graph is built)
        for step in range(1, max_steps + 1):
            if batch_size == 1:
                if not order:
                    order = list(rng.permutation(2))
                signs = [1.0 if order.pop() == 0 else -1.0]
            else:
                signs = [1.0, -1.0]
            terms = []                                 # all gradients at the old (A, B)
            for sgn in signs:
                xs = sgn * xt
                pre = B @ xs
                hid = torch.relu(pre)
                r = A @ hid - xs                       # residual f(x_s) - x_s
                g = (A.T @ r) * (pre > 0).to(A.dtype)  # backprop through the ReLU, φ'(0) = 0
                terms.append((r, hid, g, xs))
            for r, hid, g, xs in terms:                # ∇_A = scale·r hidᵀ, ∇_B = scale·g xᵀ
                A.addr_(r, hid, alpha=-lr * scale)
                B.addr_(g, xs, alpha=-lr * scale)
            if step % record_every == 0 or step == max_steps:
                row = record(step)
                if not np.isfinite(row["loss"]) or row["loss"] > diverge_at:
                    diverged = True
                    break
                if (abs(1.0 - eta * row["a_phi_b"]) < tol
                        and abs(1.0 + eta * row["a_phi_minus_b"]) < tol):
                    converged = True
                    break
    finally:
        torch.set_num_threads(old_threads)
    seconds = time.perf_counter() - start
    if traj[-1]["step"] != step:
        record(step)
    return {"A": A.numpy(), "B": B.numpy(), "trajectory": traj, "steps": step,
            "seconds": seconds, "diverged": diverged, "converged": converged,
            "eta": eta}


def theorem2_gd_recursion(eta: float, lr_sum: float, steps: int, alpha0: float = 0.0,
                          beta0: float = 1.0):
    """Gradient descent on Eq. (1) restricted to Theorem 2's family ``A = αB0ᵀ``, ``B = βB0``:

    ``α ← α - u β``, ``β ← β - u α``, ``u = 2 γ η (αβη² - 1)``

    (from Lemma 3's gradients with ``a = αw``, ``b = βw``). ``lr_sum`` is the step ``γ`` on the
    *sum* loss of Eq. (1): SGD with torch's MSE (mean over d) and one sample per step is
    ``γ = lr/d`` for each half of the hidden units; both samples per step is ``γ = lr/(2d)``.
    Each step multiplies ``β² - α²`` by ``1 - u²``, so GD's limit misses Theorem 2's
    gradient-flow closed form by O(γ). Returns ``(alpha, beta)`` after ``steps`` steps.
    """
    eta = check_positive(eta, "eta")
    lr_sum = check_positive(lr_sum, "lr_sum")
    steps = check_int(steps, "steps", minimum=0)
    a, b = float(alpha0), float(beta0)
    for _ in range(steps):
        u = 2.0 * lr_sum * eta * (a * b * eta ** 2 - 1.0)
        a, b = a - u * b, b - u * a
        if not np.isfinite(a * b):
            break
    return a, b


def sum_loss_step(lr: float, d: int, batch_size: int, loss: str = "mse") -> float:
    """The step ``γ`` on the *sum* loss of Eq. (1) that one SGD step of
    :func:`train_relu` takes on each half of the hidden units (the units with
    ``b_i > 0`` see ``x``, the others ``-x``).

    ``loss="mse"`` (torch's ``MSELoss``, mean over the batch and the ``d``
    coordinates): ``lr/d`` with one point per step (each half is updated every other
    step on average), ``lr/(2d)`` with both points per step. ``loss="sum"``: ``lr``.
    This is the step to give :func:`theorem2_gd_recursion` (for ``batch_size=1``, run it
    for half the SGD steps).
    """
    lr = check_positive(lr, "lr")
    d = check_int(d, "d", minimum=1)
    if batch_size not in (1, 2):
        raise ValueError(f"batch_size must be 1 or 2, got {batch_size!r}")
    if loss not in ("sum", "mse"):
        raise ValueError(f"loss must be 'sum' (Eq. 1) or 'mse', got {loss!r}")
    return lr if loss == "sum" else lr / (batch_size * d)


def theorem2_flow(eta: float, alpha0: float = 0.0, beta0: float = 1.0,
                  t_end: float | None = None, n_points: int = 200,
                  rtol: float = 1e-12, atol: float = 1e-14) -> dict:
    """Gradient flow of Eq. (1) on Theorem 2's family ``A = αB0ᵀ``, ``B = βB0``:

    .. math:: \\dot\\alpha = -2\\eta\\beta e, \\quad \\dot\\beta = -2\\eta\\alpha e,
              \\quad e = \\eta^2\\alpha\\beta - 1,

    from Lemma 3's gradients with ``a = αw``, ``b = βw`` (the flow of
    :func:`theorem2_gd_recursion`), integrated with :func:`scipy.integrate.solve_ivp`
    (LSODA). By default ``t_end = 40 / (2η³(α∞² + β∞²))``, ``e^{-40}`` of the linearized
    rate at the end (:func:`theorem2_closed_form`).

    Returns
    -------
    dict with the final ``alpha``, ``beta``, ``Bx_norm2`` (``2η³β²``), the trajectory
    ``t``, ``alpha_t``, ``beta_t`` (``n_points`` log-spaced times and 0), and
    ``conservation`` = ``max_t |(β² - α²) - (β0² - α0²)|`` (Lemma 4 along the flow).
    """
    from scipy.integrate import solve_ivp

    eta = check_positive(eta, "eta")
    n_points = check_int(n_points, "n_points", minimum=2)
    if t_end is None:
        cf = theorem2_closed_form(eta)
        t_end = 40.0 / (2 * eta ** 3 * (cf["alpha"] ** 2 + cf["beta"] ** 2))
    t_end = check_positive(t_end, "t_end")

    def rhs(_t, y):
        a, b = y
        e = eta ** 2 * a * b - 1.0
        return [-2 * eta * b * e, -2 * eta * a * e]

    t_eval = np.concatenate([[0.0], np.geomspace(t_end * 1e-6, t_end, n_points)])
    sol = solve_ivp(rhs, (0.0, t_end), [float(alpha0), float(beta0)], method="LSODA",
                    rtol=rtol, atol=atol, t_eval=t_eval)
    al, be = sol.y
    law = np.abs((be ** 2 - al ** 2) - (beta0 ** 2 - alpha0 ** 2))
    return {"alpha": float(al[-1]), "beta": float(be[-1]),
            "Bx_norm2": float(2 * eta ** 3 * be[-1] ** 2), "t": sol.t, "alpha_t": al,
            "beta_t": be, "conservation": float(law.max()),
            "success": bool(sol.success)}


def theorem2_gaps(Bx_norm2: float, alpha: float, beta: float, eta: float) -> dict:
    """Distances of a trained network from Theorem 2's gradient-flow values.

    For the readings of Appendix G's "up to the third decimal place": ``Bx_norm2`` minus
    ``η³(√(η⁴+4)/η² + 1)``, ``‖Bx‖`` minus its square root, ``β²`` minus
    ``(√(η⁴+4)/η² + 1)/2``, and ``αβη² - 1`` (interpolation); plus ``drift`` =
    ``1 - (β² - α²)``, the departure from Lemma 4's law from ``α0 = 0``, ``β0 = 1``.
    """
    cf = theorem2_closed_form(eta)
    return {"Bx_norm2": Bx_norm2 - cf["Bx_norm2"],
            "Bx_norm": float(np.sqrt(Bx_norm2) - np.sqrt(cf["Bx_norm2"])),
            "beta2": beta ** 2 - cf["beta2"],
            "interpolation": alpha * beta * eta ** 2 - 1,
            "drift": 1.0 - (beta ** 2 - alpha ** 2)}
