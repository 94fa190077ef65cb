"""Linear autoencoders f(x) = A B x: Theorem 1's gradient-flow solution and the asymmetric
spectral initialization (paper Section 5.2, Appendix E).

Conventions: data matrices passed to :func:`asymmetric_encoder` hold one *sample per row*
(``X`` of shape ``(n, d)``, as word vectors or expression profiles are stored); the paper
writes ``X`` as ``d x n``, so its ``(1/n) X Xᵀ`` is our ``Xᵀ X / n``.

Why one module of ~700 lines: it is one object of the paper, Theorem 1, with the two
independent ways the book checks it (full-matrix gradient descent and the gradient-flow
ODE, sharing the loss, its gradients and the step-size rule) and its consequences for
Corollaries 3-4. Every function here calls the others (the checks compare the closed form
with both trainings); split by section headers below rather than by files.
"""
from __future__ import annotations

import numpy as np

from aligned_latents.theory.closed_forms import (
    cor1_cosines,
    cor1_covariances,
    cor1_eigenvalues,
    cor1_top_eigenvectors,
    cosine,
)
from aligned_latents.util.validation import as_finite_array, check_degree, check_int, check_positive


def theorem1_final(sigma_a0, sigma_b0):
    """Theorem 1: singular values (a_inf, b_inf) reached by gradient flow from (a_0, b_0).

    Solves the two conditions of Appendix E for each nonzero singular direction of the data,
    the conservation law (Eq. 2) ``a² - a0² = b² - b0²`` and interpolation (Eq. 3) ``a b = 1``:

    .. math:: b_\\infty = \\sqrt{\\tfrac{c^2}{2} + \\sqrt{1 + \\tfrac{c^4}{4}}},
              \\quad c^2 = b_0^2 - a_0^2, \\quad a_\\infty = 1 / b_\\infty .

    This is Appendix E's derivation; the formula displayed in Theorem 1 of the paper differs
    (see the errata page). Arrays broadcast.
    """
    a0 = as_finite_array(sigma_a0, "sigma_a0")
    b0 = as_finite_array(sigma_b0, "sigma_b0")
    c2 = b0 ** 2 - a0 ** 2
    b_inf = np.sqrt(c2 / 2.0 + np.sqrt(1.0 + c2 ** 2 / 4.0))
    return 1.0 / b_inf, b_inf


def _check_data(X, k, normalizer):
    """Shared checks: ``X`` a non-empty finite (n, d) matrix, ``k`` a degree, ``normalizer``
    positive (default ``n``)."""
    X = as_finite_array(X, "X", ndim=2)
    k = check_degree(k)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must be non-empty, got shape {X.shape}")
    normalizer = float(n) if normalizer is None else check_positive(normalizer, "normalizer")
    return X, k, normalizer


def data_gram(X, chunk: int = 8192) -> np.ndarray:
    """``XᵀX`` in float64 (the paper's ``X Xᵀ`` for its d x n data), accumulated over
    blocks of ``chunk`` rows: each block is checked finite and converted to float64 in
    turn, so a float32 ``X`` of 500,000 x 300 (600 MB) never has a float64 copy (1.2 GB);
    the extra memory is one block (20 MB at d = 300, as
    :func:`aligned_latents.applications.glove.encode_linear`'s). With ``n <= chunk`` it is
    one product, ``X.T @ X``; with more rows the sum of the blocks' products differs from
    it by rounding only.

    Raises ``ValueError`` for an empty or non-2-d ``X`` or a non-finite value.
    """
    chunk = check_int(chunk, "chunk", minimum=1)
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty (n, d) matrix, got shape {X.shape}")
    gram = np.zeros((X.shape[1], X.shape[1]))
    for s in range(0, len(X), chunk):
        block = as_finite_array(X[s:s + chunk], "X", ndim=2)
        gram += block.T @ block
        del block  # freed before the next block is made: one block at a time
    return gram


def asymmetric_encoder(X, k: int, normalizer: float | None = None, rank_tol: float = 1e-10,
                       *, gram=None):
    """Encoder ``B_inf`` of a linear autoencoder trained to convergence (gradient flow) from
    the asymmetric spectral initialization ``A0 = 0``, ``B0 = (XᵀX / normalizer + I)^k``.

    Parameters
    ----------
    X : array-like (n, d)
        Training data, one sample per row.
    k : int >= 0
        Degree of the matrix polynomial (Corollary 3, asymmetric initialization).
    normalizer : float, optional
        Divides ``XᵀX``; default ``n`` (the paper's ``(1/n) X Xᵀ``). The CMap companion code
        uses ``n * g`` (g genes).
    rank_tol : float
        Directions with ``XᵀX`` eigenvalue below ``rank_tol * max eigenvalue`` carry no data:
        gradient flow does not move them (Theorem 1 holds on the data's rank-r span only),
        so ``B_inf`` keeps ``B0`` there.

    gram : ndarray (d, d), optional
        ``data_gram(X)`` when already computed (several degrees of the same data: one
        pass over ``X`` instead of one per degree; the same encoder).

    ``XᵀX`` is accumulated in float64 over blocks of rows (:func:`data_gram`): no float64
    copy of ``X`` (a float32 ``X`` of 500,000 x 300 is 600 MB; its copy was 1.2 GB).

    Returns
    -------
    B : ndarray (d, d)
        Symmetric encoder ``V diag(b_inf) Vᵀ`` (Theorem 1 with ``a0 = 0``).
    """
    k = check_degree(k)
    if gram is None:
        gram = data_gram(X)
    else:
        d = np.shape(X)[1] if np.ndim(X) == 2 else None
        gram = as_finite_array(gram, "gram", shape=(d, d))
    n = len(X)
    normalizer = float(n) if normalizer is None else check_positive(normalizer, "normalizer")
    evals, V = np.linalg.eigh(gram)
    evals = np.clip(evals, 0.0, None)
    b0 = (evals / normalizer + 1.0) ** k
    _, b_inf = theorem1_final(np.zeros_like(b0), b0)
    in_span = evals > rank_tol * max(evals.max(), np.finfo(float).tiny)
    b = np.where(in_span, b_inf, b0)
    return (V * b) @ V.T


# ---------------------------------------------------------------------------------------
# Theorem 1 as displayed in the paper (kept to show its disagreement with Appendix E)
# ---------------------------------------------------------------------------------------
def theorem1_as_printed(sigma_a0, sigma_b0):
    """Theorem 1's formula exactly as displayed in the paper (Section 5.2).

    The display reads, with ``C = (Σ_B^(0))²_ii - Σ_A^(0)_ii`` (``a0`` *not* squared),

    .. math:: Σ_{B,ii}^{(\\infty)} = \\sqrt{C/2} + \\sqrt{1 + C/4},
              \\qquad Σ_{A,ii}^{(\\infty)} = 1 / Σ_{B,ii}^{(\\infty)},

    i.e. ``a0`` unsquared, the outer square root split into two, and ``C`` unsquared inside
    the inner root. Appendix E derives :func:`theorem1_final` instead; this function exists so
    the book can show the two disagree. Where ``C < 0`` the printed formula has no real value
    and NaN is returned there (documented, not an input error). Arrays broadcast.

    Returns
    -------
    (a_inf, b_inf) : ndarrays
    """
    a0 = as_finite_array(sigma_a0, "sigma_a0")
    b0 = as_finite_array(sigma_b0, "sigma_b0")
    C = b0 ** 2 - a0
    with np.errstate(invalid="ignore"):
        b_inf = np.sqrt(C / 2.0) + np.sqrt(1.0 + C / 4.0)
    return 1.0 / b_inf, b_inf


# ---------------------------------------------------------------------------------------
# Data SVD and spectral initializations (Definition 2, Corollaries 3-4)
# ---------------------------------------------------------------------------------------
def data_svd(X, rank_tol: float = 1e-10):
    """Left singular vectors and singular values of the data (Definition 2's ``U_X``).

    Parameters
    ----------
    X : array-like (n, d), one sample per row (the paper's ``X`` is our ``Xᵀ``).
    rank_tol : float
        Singular values below ``rank_tol * max`` are set to exactly 0 (null directions).

    Returns
    -------
    U : ndarray (d, d)
        Orthonormal columns, ordered by decreasing singular value; the last ``d - r`` columns
        complete a basis of the null space of ``X``.
    s : ndarray (d,)
        Singular values of the paper's ``X`` (``s_i² = eigenvalues of XᵀX`` here), zeros padded.
    r : int
        Rank of ``X``.
    """
    X = as_finite_array(X, "X", ndim=2)
    if X.size == 0:
        raise ValueError(f"X must be non-empty, got shape {X.shape}")
    check_positive(rank_tol, "rank_tol")
    # SVD of X (not eigh of XᵀX): null directions stay at ~eps, not ~sqrt(eps). For n > d the
    # SVD of the d×d triangular factor of X = QR has the same singular values and V.
    Y = np.linalg.qr(X, mode="r") if X.shape[0] > X.shape[1] else X
    _, sv, Vt = np.linalg.svd(Y, full_matrices=True)
    V = Vt.T
    s = np.zeros(X.shape[1])
    s[:sv.size] = sv
    null = s <= rank_tol * max(s[0], np.finfo(float).tiny)
    s[null] = 0.0
    return V, s, int(np.count_nonzero(~null))


def spectral_initialization(U, sigma_a0, sigma_b0):
    """Definition 2: ``A0 = U diag(sigma_a0) Uᵀ``, ``B0 = U diag(sigma_b0) Uᵀ``.

    ``U`` is ``U_X`` from :func:`data_svd`; ``sigma_a0``, ``sigma_b0`` are non-negative arrays
    of length ``d`` (positive semi-definite diagonal matrices of Definition 2).
    """
    U = as_finite_array(U, "U", ndim=2)
    d = U.shape[0]
    if U.shape != (d, d) or not np.allclose(U.T @ U, np.eye(d), atol=1e-8):
        raise ValueError(f"U must be a square orthogonal matrix, got shape {U.shape}")
    a0 = as_finite_array(sigma_a0, "sigma_a0", shape=(d,))
    b0 = as_finite_array(sigma_b0, "sigma_b0", shape=(d,))
    if np.any(a0 < 0) or np.any(b0 < 0):
        raise ValueError("sigma_a0 and sigma_b0 must be >= 0 "
                         "(positive semi-definite, Definition 2)")
    return (U * a0) @ U.T, (U * b0) @ U.T


def polynomial_initialization(X, k: int, normalizer: float | None = None, shift: float = 1.0):
    """Encoder initialization ``B0 = (XᵀX / normalizer + shift·I)^k`` (``A0 = 0``).

    ``shift = 1`` is the asymmetric spectral initialization of Corollary 3 (a polynomial in
    ``(1/n) X Xᵀ + I``); ``shift = 0`` is Corollary 4's ``B0 = ((1/n) X Xᵀ)^k``. No singular
    vectors are computed (the point of the Remark after Corollary 3).
    """
    X, k, normalizer = _check_data(X, k, normalizer)
    d = X.shape[1]
    shift = check_positive(shift, "shift", allow_zero=True)
    M = X.T @ X / normalizer + shift * np.eye(d)
    return np.linalg.matrix_power(M, k)


# ---------------------------------------------------------------------------------------
# The loss of Eq. (1) and its gradients; Appendix E's printed update
# ---------------------------------------------------------------------------------------
def _check_pair(A, B, d):
    A = as_finite_array(A, "A", shape=(d, None))
    B = as_finite_array(B, "B", shape=(A.shape[1], d))
    return A, B


def linear_loss(A, B, X):
    """Eq. (1) for ``f(x) = A B x``: ``Σ_i ||x_i - A B x_i||²`` (rows of ``X`` are the x_i)."""
    X = as_finite_array(X, "X", ndim=2)
    A, B = _check_pair(A, B, X.shape[1])
    R = X - X @ B.T @ A.T
    return float(np.sum(R * R))


def linear_gradients(A, B, X):
    """Gradients of Eq. (1): ``∇_A = -2 (I - AB) XᵀX Bᵀ``, ``∇_B = -2 Aᵀ (I - AB) XᵀX``."""
    X = as_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    A, B = _check_pair(A, B, d)
    RG = (np.eye(d) - A @ B) @ (X.T @ X)
    return -2.0 * RG @ B.T, -2.0 * A.T @ RG


def appendix_e_update(A, B, X):
    """The update directions printed in Appendix E: ``(X - ABX) Xᵀ Bᵀ`` and ``Aᵀ (X - ABX) Xᵀ``
    (paper's column convention), so that ``A ← A + γ·dA``. Compare with
    :func:`linear_gradients`: the loss gradient is ``-2`` times these (the 2 is absorbed in γ).
    """
    X = as_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    A, B = _check_pair(A, B, d)
    RG = (np.eye(d) - A @ B) @ (X.T @ X)
    return RG @ B.T, A.T @ RG


# ---------------------------------------------------------------------------------------
# Two independent checks of Theorem 1: full-matrix GD, and the gradient-flow ODE
# ---------------------------------------------------------------------------------------
def stable_step(s_max: float, sigma_a0, sigma_b0, step_fraction: float = 0.1) -> float:
    """Learning rate for GD on Eq. (1) set from the largest data singular value ``s_max``.

    Along a singular direction the residual ``e = 1 - a b`` obeys
    ``e ← e (1 - 2 γ s² (a² + b²))`` to first order, so GD is stable for
    ``γ < 1 / (s² (a² + b²))``. On the flow ``a² + b²`` is monotone between its initial value
    and ``a∞² + b∞²`` (Theorem 1), so ``M = max`` of the two bounds it; the step is
    ``step_fraction / (s_max² M)`` with ``0 < step_fraction < 1``.
    """
    s_max = check_positive(s_max, "s_max")
    step_fraction = check_positive(step_fraction, "step_fraction")
    if step_fraction >= 1:
        raise ValueError(f"step_fraction must be < 1 for a stable step, got {step_fraction}")
    a0 = as_finite_array(sigma_a0, "sigma_a0")
    b0 = as_finite_array(sigma_b0, "sigma_b0")
    a_inf, b_inf = theorem1_final(a0, b0)
    M = float(max(np.max(a0 ** 2 + b0 ** 2), np.max(a_inf ** 2 + b_inf ** 2)))
    return step_fraction / (s_max ** 2 * M)


def _gd_loop(G, A, B, lr: float, max_steps: int, check_every: int, stop=None) -> int:
    """The gradient-descent loop on Eq. (1), ``L = Σ_i ||x_i - A B x_i||²``
    (Appendix E's update with the loss gradient's factor 2); the package's one
    implementation of Theorem 1's gradient descent.

    Each step, simultaneously for A and B,

    .. math:: A \\leftarrow A + 2γ (I - AB) G Bᵀ, \\qquad
              B \\leftarrow B + 2γ Aᵀ (I - AB) G,

    i.e. ``A ← A - γ ∇_A L``, ``B ← B - γ ∇_B L`` with ``G = XᵀX``. ``G``, ``A``,
    ``B`` are either (d, d) matrices or length-d vectors holding diagonal matrices
    (Appendix E's singular-value coordinates, where every product is elementwise): the
    same code runs both. NumPy float64: for the small matrices here it is 2-3 times
    faster per step than torch (33 µs against 54 µs at d = 50 on the book's CPU).

    ``A`` and ``B`` are updated in place. Every ``check_every`` steps and at the last
    one, ``stop(step, A, B, dA, dB)`` (if given; ``dA = -γ ∇_A L``) may end the loop by
    returning True. Returns the number of steps done.
    """
    full = G.ndim == 2
    mm = np.matmul if full else np.multiply
    eye = np.eye(len(G)) if full else 1.0
    G2 = (2.0 * lr) * G
    step = 0
    for step in range(1, max_steps + 1):
        R = mm(eye - mm(A, B), G2)             # 2γ (I - AB) G
        dA = mm(R, B.T)                        # -γ ∇_A L
        dB = mm(A.T, R)                        # -γ ∇_B L
        A += dA
        B += dB
        checking = stop is not None and (step % check_every == 0 or step == max_steps)
        if checking and stop(step, A, B, dA, dB):
            break
    return step


def train_linear_gd(X, A0, B0, lr: float, max_steps: int = 200_000,
                    tol: float | None = 1e-12, check_every: int = 200, *,
                    grad_tol: float | None = None, commutators: bool = True):
    """Gradient descent on Eq. (1) for ``f(x) = A B x`` (NumPy float64, full matrices).

    Runs :func:`_gd_loop` with the exact gradient of Eq. (1) through the Gram matrix
    ``G = XᵀX`` (so the cost per step does not depend on n). Every ``check_every`` steps
    it records the relative residual ``||X - X Bᵀ Aᵀ||_F / ||X||_F``, the gradient norm
    ``||∇L||_F`` and (with ``commutators``) ``||AG - GA||``, ``||BG - GB||`` relative to
    ``||A|| ||G||`` (zero when A, B are polynomials in ``XXᵀ``, Appendix E's induction).

    Parameters
    ----------
    X : array-like (n, d)
        Training data, one sample per row.
    A0, B0 : array-like (d, h), (h, d)
        Initialization.
    lr : float
        Step size γ on Eq. (1) (see :func:`stable_step`).
    max_steps, check_every : int
    tol : float or None
        Stop when the relative residual is below ``tol`` (None: never).
    grad_tol : float or None
        Stop when ``||∇L||_F`` (Eq. (1)'s gradient, both factors) is below ``grad_tol``.
    commutators : bool
        Record the commutators (two more d x d products per check).

    Returns
    -------
    dict with ``A``, ``B`` (ndarrays), ``steps``, ``seconds`` (wall time of the loop),
    ``converged`` (the residual or gradient rule stopped it), ``residual``,
    ``grad_norm``, ``max_commutator`` (largest recorded; NaN without ``commutators``),
    ``history`` (list of (step, residual, commutator) tuples).
    """
    import time

    X = as_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    A0, B0 = _check_pair(A0, B0, d)
    lr = check_positive(lr, "lr")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    tol = None if tol is None else check_positive(tol, "tol")
    grad_tol = None if grad_tol is None else check_positive(grad_tol, "grad_tol")
    G = X.T @ X
    A, B = A0.copy(), B0.copy()
    eye = np.eye(d)
    trX2 = float(np.trace(G))
    Gn = float(np.linalg.norm(G))
    state = {"residual": float("nan"), "grad_norm": float("nan"),
             "max_comm": 0.0 if commutators else float("nan"), "converged": False}
    history = []

    def rel_comm(M):
        return float(np.linalg.norm(M @ G - G @ M)) / max(float(np.linalg.norm(M)) * Gn,
                                                          1e-300)

    def check(step, A, B, dA, dB):
        R = eye - A @ B
        residual = (float(np.sqrt(max(np.trace(R @ G @ R.T), 0.0) / trX2)) if trX2 > 0
                    else 0.0)
        gnorm = float(np.sqrt(np.sum(dA * dA) + np.sum(dB * dB))) / lr
        comm = max(rel_comm(A), rel_comm(B)) if commutators else float("nan")
        if commutators:
            state["max_comm"] = max(state["max_comm"], comm)
        state.update(residual=residual, grad_norm=gnorm)
        history.append((step, residual, comm))
        if not np.isfinite(residual):
            return True
        state["converged"] = bool((tol is not None and residual < tol)
                                  or (grad_tol is not None and gnorm < grad_tol))
        return state["converged"]

    start = time.perf_counter()
    steps = _gd_loop(G, A, B, lr, max_steps, check_every, check)
    seconds = time.perf_counter() - start
    return {"A": A, "B": B, "steps": steps, "seconds": seconds,
            "converged": state["converged"], "residual": state["residual"],
            "grad_norm": state["grad_norm"], "max_commutator": state["max_comm"],
            "history": history}


def gradient_flow_singular_values(s, sigma_a0, sigma_b0, t_end: float | None = None,
                                  rtol: float = 1e-11, atol: float = 1e-13,
                                  method: str = "LSODA", t_eval=None):
    """Integrate the gradient flow of Eq. (1) in singular-value coordinates (Appendix E).

    For each data singular value ``s_i`` (``s_i = 0`` allowed):

    .. math:: \\dot a_i = 2 s_i^2 (1 - a_i b_i) b_i, \\qquad \\dot b_i = 2 s_i^2 (1 - a_i b_i) a_i

    (the factor 2 is the gradient of the squared loss; Appendix E drops it, which only
    rescales time). Integrated with :func:`scipy.integrate.solve_ivp` up to ``t_end``; by
    default ``t_end = 40 / min_i 2 s_i² (a∞² + b∞²)`` over ``s_i > 0``, i.e. ``e^{-40}`` of
    the slowest linearized mode.

    ``t_eval`` (optional, increasing times in ``[0, t_end]``): also return the
    trajectory there, as ``info["t"]`` (k,), ``info["a_t"]`` and ``info["b_t"]``
    (k, len(s)).

    Returns
    -------
    (a, b, info) : final singular values and a dict with ``t_end``, ``seconds``, ``nfev``,
    ``success`` (and the trajectory when ``t_eval`` is given).
    """
    import time

    from scipy.integrate import solve_ivp

    s = as_finite_array(s, "s", ndim=1)
    a0 = as_finite_array(sigma_a0, "sigma_a0", shape=s.shape)
    b0 = as_finite_array(sigma_b0, "sigma_b0", shape=s.shape)
    if np.any(s < 0):
        raise ValueError("singular values s must be >= 0")
    if method not in ("LSODA", "Radau", "BDF", "RK45", "DOP853"):
        raise ValueError(f"method must be one of LSODA, Radau, BDF, RK45, DOP853, got {method!r}")
    s2 = s ** 2
    if t_end is None:
        a_inf, b_inf = theorem1_final(a0, b0)
        rates = 2 * s2 * (a_inf ** 2 + b_inf ** 2)
        rates = rates[s2 > 0]
        if rates.size == 0:
            raise ValueError("all singular values are 0: the flow does not move")
        t_end = 40.0 / float(rates.min())
    t_end = check_positive(t_end, "t_end")
    m = s.size

    def rhs(_t, y):
        a, b = y[:m], y[m:]
        e = 2 * s2 * (1.0 - a * b)
        return np.concatenate([e * b, e * a])

    def jac(_t, y):
        a, b = y[:m], y[m:]
        e = 1.0 - a * b
        J = np.zeros((2 * m, 2 * m))
        i = np.arange(m)
        J[i, i] = 2 * s2 * (-b * b)
        J[i, m + i] = 2 * s2 * (e - a * b)
        J[m + i, i] = 2 * s2 * (e - a * b)
        J[m + i, m + i] = 2 * s2 * (-a * a)
        return J

    if t_eval is not None:
        t_eval = as_finite_array(t_eval, "t_eval", ndim=1)
        if np.any(np.diff(t_eval) <= 0) or t_eval[0] < 0 or t_eval[-1] > t_end:
            raise ValueError("t_eval must increase strictly within "
                             f"[0, t_end = {t_end:g}]")
        t_eval = np.union1d(t_eval, [t_end])
    start = time.perf_counter()
    kw = {} if method in ("RK45", "DOP853") else {"jac": jac}
    sol = solve_ivp(rhs, (0.0, t_end), np.concatenate([a0, b0]), method=method,
                    rtol=rtol, atol=atol, t_eval=t_eval, **kw)
    seconds = time.perf_counter() - start
    y = sol.y[:, -1]
    info = {"t_end": t_end, "seconds": seconds, "nfev": int(sol.nfev),
            "success": bool(sol.success)}
    if t_eval is not None:
        info.update(t=sol.t, a_t=sol.y[:m].T, b_t=sol.y[m:].T)
    return y[:m], y[m:], info


def singular_values_in_basis(M, U):
    """Diagonal of ``Uᵀ M U`` and the largest off-diagonal entry relative to the largest
    diagonal one (0 when ``M`` is diagonal in the basis ``U``, e.g. a polynomial in XXᵀ)."""
    M = as_finite_array(M, "M", ndim=2)
    U = as_finite_array(U, "U", shape=(M.shape[0], M.shape[0]))
    D = U.T @ M @ U
    diag = np.diag(D).copy()
    off = D - np.diag(diag)
    scale = max(np.abs(diag).max(), np.finfo(float).tiny)
    return diag, float(np.abs(off).max() / scale)


# ---------------------------------------------------------------------------------------
# Corollary 4: the Corollary 1 mixture after autoencoding
# ---------------------------------------------------------------------------------------
def corollary4_alpha_beta(c: float, k: int, shift: float = 0.0):
    """Corollary 4's ``α = λ1(B)``, ``β = λ2(B)`` (n → ∞).

    With ``shift = 0`` (Corollary 4's ``B0 = ((1/n) XXᵀ)^k``) the initial eigenvalues are
    ``(c+7)^k`` and ``(c+3)^k`` and this is the displayed
    ``α = sqrt((c+7)^{2k}/2 + sqrt(1 + (c+7)^{4k}/4))`` (same for β with c+3). With
    ``shift = 1`` (Corollary 3's ``B0 = ((1/n) XXᵀ + I)^k``) they are ``(c+8)^k``, ``(c+4)^k``.
    Both through :func:`theorem1_final` with ``a0 = 0``.
    """
    c = check_positive(c, "c", allow_zero=True)
    k = check_degree(k)
    shift = check_positive(shift, "shift", allow_zero=True)
    lam = np.array([ev + shift for ev in cor1_eigenvalues(c)]) ** k
    _, b = theorem1_final(np.zeros(2), lam)
    return float(b[0]), float(b[1])


def mixture_sample(n: int, c: float, seed: int = 0):
    """The Corollary 1 mixture: n points from N(e1, Σ1) and n from N(e2, Σ2),
    ``Σ1 = diag(c+1, 1) + J``, ``Σ2 = diag(1, c+1) + J`` (J all ones). Rows are samples;
    returns ``(X (2n, 2), q1, q2)`` with ``q1, q2`` the top eigenvectors of Σ1, Σ2."""
    n = check_int(n, "n", minimum=1)
    c = check_positive(c, "c")
    S1, S2 = cor1_covariances(c)
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.multivariate_normal([1.0, 0.0], S1, size=n),
                   rng.multivariate_normal([0.0, 1.0], S2, size=n)])
    q1, q2 = cor1_top_eigenvectors(c)
    return X, q1, q2


def gd_singular_values(s, sigma_a0, sigma_b0, lr: float, steps: int):
    """Appendix E's GD recursion on the diagonal (singular-value) coordinates, with the
    factor 2 of the loss gradient:
    ``a ← a + 2γ s² (1 - a b) b``, ``b ← b + 2γ s² (1 - a b) a`` (simultaneous update).

    This is :func:`train_linear_gd`'s loop (:func:`_gd_loop`) run on diagonal matrices
    (``G = diag(s²)``): what full-matrix GD does in the basis ``U_X`` when A, B stay
    polynomials in ``XXᵀ``. Each step multiplies ``a² - b²`` by ``1 - u²``,
    ``u = 2γ s² (1 - a b)``: GD conserves Eq. (2) only up to O(γ), so its limit differs
    from the gradient-flow limit of Theorem 1 by O(γ).

    Returns ``(a, b)`` after ``steps`` steps.
    """
    s = as_finite_array(s, "s", ndim=1)
    a = as_finite_array(sigma_a0, "sigma_a0", shape=s.shape).copy()
    b = as_finite_array(sigma_b0, "sigma_b0", shape=s.shape).copy()
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)
    if steps:
        _gd_loop(s ** 2, a, b, lr, steps, steps)
    return a, b


def gd_flow_gap(s, sigma_b0, lr: float, max_steps: int, check_every: int = 1000,
                interp_tol: float = 1e-12) -> tuple[float, int]:
    """How far gradient descent with step ``lr`` ends from Theorem 1's gradient-flow
    limit, from ``A0 = 0`` and ``B0`` with singular values ``sigma_b0`` along data
    directions with singular values ``s``: Appendix E's recursion on the diagonal
    (:func:`gd_singular_values`' loop, :func:`_gd_loop`), run until ``a b = 1`` within
    ``interp_tol`` in every direction (checked every ``check_every`` steps) or
    ``max_steps`` steps.

    Full-matrix GD from a spectral initialization moves in that basis exactly so
    (A, B stay polynomials in ``XXᵀ``), so this is, up to rounding, the relative
    difference ``‖b_GD - b_∞‖ / ‖b_∞‖`` that full-matrix GD will show: the discretisation
    bias (each step multiplies ``b² - a²`` by ``1 - u²``, :func:`gd_singular_values`),
    plus what the step budget leaves unconverged. It costs O(r) per step.

    Returns ``(gap, steps)``.
    """
    s = as_finite_array(s, "s", ndim=1)
    b = as_finite_array(sigma_b0, "sigma_b0", shape=s.shape).copy()
    lr = check_positive(lr, "lr")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    interp_tol = check_positive(interp_tol, "interp_tol")
    _, b_inf = theorem1_final(np.zeros_like(b), b)
    a = np.zeros_like(b)
    steps = _gd_loop(s ** 2, a, b, lr, max_steps, check_every,
                     stop=lambda _s, A, B, _dA, _dB: np.max(np.abs(1.0 - A * B)) < interp_tol)
    return float(np.linalg.norm(b - b_inf) / np.linalg.norm(b_inf)), steps


def check_theorem1(X, A0, B0, step_fraction: float = 0.02, max_steps: int = 200_000,
                   tol: float = 1e-12):
    """Theorem 1 checked two independent ways from a spectral initialization (A0, B0).

    Runs full-matrix GD (:func:`train_linear_gd`, step from :func:`stable_step`) and the
    gradient-flow ODE (:func:`gradient_flow_singular_values`), and tabulates per direction of
    ``U_X``: data singular value, initial and predicted (Appendix E and as printed) singular
    values, the GD and ODE values, and GD's own discrete prediction
    (:func:`gd_singular_values` run for the same number of steps).

    Returns ``(table: pandas.DataFrame, info: dict)`` with timings, step count, step size and
    the largest off-diagonal / commutator measure of the GD matrices.
    """
    import pandas as pd

    X = as_finite_array(X, "X", ndim=2)
    U, s, r = data_svd(X)
    a0, off_a = singular_values_in_basis(A0, U) if np.any(A0) else (np.zeros(U.shape[0]), 0.0)
    b0, off_b = singular_values_in_basis(B0, U)
    if max(off_a, off_b) > 1e-8:
        raise ValueError("A0, B0 must be diagonal in U_X (spectral initialization, Definition 2)")
    if np.any(a0 < -1e-12) or np.any(b0 < -1e-12):
        raise ValueError("A0, B0 must be positive semi-definite (Definition 2)")
    a0, b0 = np.clip(a0, 0, None), np.clip(b0, 0, None)
    lr = stable_step(s[0], a0, b0, step_fraction)
    gd = train_linear_gd(X, A0, B0, lr, max_steps=max_steps, tol=tol)
    a_gd, offA = (singular_values_in_basis(gd["A"], U) if np.any(gd["A"])
                  else (np.zeros_like(s), 0.0))
    b_gd, offB = singular_values_in_basis(gd["B"], U)
    a_ode, b_ode, ode = gradient_flow_singular_values(s, a0, b0)
    a_rec, b_rec = gd_singular_values(s, a0, b0, lr, gd["steps"])
    a_pred, b_pred = theorem1_final(a0, b0)
    a_pr, b_pr = theorem1_as_printed(a0, b0)
    table = pd.DataFrame({"direction": np.arange(1, s.size + 1), "s": s,
                          "in_span": s > 0, "a0": a0, "b0": b0, "a_pred": a_pred,
                          "b_pred": b_pred, "a_printed": a_pr, "b_printed": b_pr,
                          "a_gd": a_gd, "b_gd": b_gd,
                          "a_gd_recursion": a_rec, "b_gd_recursion": b_rec,
                          "a_ode": a_ode, "b_ode": b_ode})
    info = {"rank": r, "lr": lr, "steps": gd["steps"], "gd_seconds": gd["seconds"],
            "gd_converged": gd["converged"], "gd_residual": gd["residual"],
            "ode_seconds": ode["seconds"], "ode_nfev": ode["nfev"],
            "ode_success": ode["success"], "commutator": gd["max_commutator"],
            "off_diagonal": max(offA, offB)}
    return table, info


def theorem1_dynamics(s, sigma_a0, sigma_b0, lr: float, n_points: int = 40):
    """Singular values along gradient descent and along gradient flow at the same times,
    for the book's figure of Theorem 1 (GD, flow and closed form together).

    GD step ``k`` of :func:`gd_singular_values` with learning rate ``lr`` moves by
    ``lr`` times the right-hand side of the flow of
    :func:`gradient_flow_singular_values`, so it is flow time ``t = k·lr``. The times are
    ``t = 0`` and ``n_points`` log-spaced times
    from ``t_end / 10⁵`` to the flow's default ``t_end`` (``e^{-40}`` of the slowest
    mode), rounded to whole GD steps.

    Returns
    -------
    pandas.DataFrame with columns ``method`` (``"gradient flow"`` or
    ``"gradient descent"``), ``direction`` (1-based; only directions with ``s_i > 0``),
    ``step``, ``t``, ``a``, ``b``.
    """
    import pandas as pd

    s = as_finite_array(s, "s", ndim=1)
    a0 = as_finite_array(sigma_a0, "sigma_a0", shape=s.shape)
    b0 = as_finite_array(sigma_b0, "sigma_b0", shape=s.shape)
    lr = check_positive(lr, "lr")
    n_points = check_int(n_points, "n_points", minimum=2)
    on = s > 0
    if not np.any(on):
        raise ValueError("all singular values are 0: the flow does not move")
    _, _, info = gradient_flow_singular_values(s, a0, b0)
    t_end = info["t_end"]
    steps = np.unique(np.round(np.geomspace(t_end * 1e-5, t_end, n_points) / lr))
    steps = np.concatenate([[0], steps[steps > 0]]).astype(int)
    t = steps * lr
    _, _, flow = gradient_flow_singular_values(s, a0, b0, t_end=max(t[-1], t_end),
                                               t_eval=t)
    keep = np.isin(flow["t"], t)
    rows = []
    direction = np.arange(1, s.size + 1)[on]
    for tk, ak, bk, k in zip(flow["t"][keep], flow["a_t"][keep], flow["b_t"][keep],
                             steps):
        rows += [{"method": "gradient flow", "direction": i, "step": k, "t": tk,
                  "a": a, "b": b} for i, a, b in zip(direction, ak[on], bk[on])]
    a, b, done = a0.copy(), b0.copy(), 0
    for k in steps:
        a, b = gd_singular_values(s, a, b, lr, int(k - done))
        done = k
        rows += [{"method": "gradient descent", "direction": i, "step": k, "t": k * lr,
                  "a": ai, "b": bi} for i, ai, bi in zip(direction, a[on], b[on])]
    return pd.DataFrame(rows)


def step_study(s, sigma_a0, sigma_b0, step_fractions, e_folds: float = 60.0):
    """Gradient descent against gradient flow for several step sizes (Theorem 1,
    Eq. (2)).

    For each step fraction ``f`` (of :func:`stable_step`), runs Appendix E's diagonal
    recursion (:func:`gd_singular_values`) until the slowest direction has converged by
    ``e_folds`` e-folds of its linearized rate ``2 γ s_i² (a∞² + b∞²)`` (60: to
    roundoff), and tabulates, over the directions with
    ``s_i > 0``, the largest distance of ``(a, b)`` from Theorem 1's limit
    (:func:`theorem1_final`) and the largest drift of the conservation law (2),
    ``|(a² - a0²) - (b² - b0²)|``, which gradient flow keeps at 0.

    Returns a DataFrame with columns ``step_fraction``, ``lr``, ``steps``,
    ``max_err_a``, ``max_err_b``, ``max_drift``, ``err_over_step``
    (``max_err_b / step_fraction``) and
    ``drift_over_step``.
    """
    import pandas as pd

    s = as_finite_array(s, "s", ndim=1)
    a0 = as_finite_array(sigma_a0, "sigma_a0", shape=s.shape)
    b0 = as_finite_array(sigma_b0, "sigma_b0", shape=s.shape)
    fractions = as_finite_array(step_fractions, "step_fractions", ndim=1)
    e_folds = check_positive(e_folds, "e_folds")
    on = s > 0
    if not np.any(on):
        raise ValueError("all singular values are 0: the flow does not move")
    a_pred, b_pred = theorem1_final(a0, b0)
    slowest = float(np.min((2 * s ** 2 * (a_pred ** 2 + b_pred ** 2))[on]))
    rows = []
    for f in fractions:
        lr = stable_step(float(s.max()), a0, b0, float(f))
        steps = int(np.ceil(e_folds / (lr * slowest)))
        a, b = gd_singular_values(s, a0, b0, lr, steps)
        drift = np.abs((a ** 2 - a0 ** 2) - (b ** 2 - b0 ** 2))[on]
        rows.append({"step_fraction": float(f), "lr": lr, "steps": steps,
                     "max_err_a": float(np.max(np.abs(a - a_pred)[on])),
                     "max_err_b": float(np.max(np.abs(b - b_pred)[on])),
                     "max_drift": float(drift.max())})
    out = pd.DataFrame(rows)
    out["err_over_step"] = out.max_err_b / out.step_fraction
    out["drift_over_step"] = out.max_drift / out.step_fraction
    return out


def corollary4_experiment(X, q1, q2, c: float, degrees, normalizer: float,
                          step_fraction: float = 0.02, tol: float = 1e-10):
    """Corollary 4 on a sample of the Corollary 1 mixture, for both initializations.

    For each degree ``k`` and ``shift`` 0 (Corollary 4's ``B0 = ((1/n)XXᵀ)^k``,
    "power") and 1 (Corollary 3's ``((1/n)XXᵀ + I)^k``, "plus identity"): trains ``f(x) = ABx`` from
    ``A0 = 0`` by full-matrix GD (:func:`train_linear_gd`) and tabulates the encoder's
    eigenvalues (``alpha_trained``, ``beta_trained``), those of Theorem 1 applied to
    the sample itself (``alpha_flow``, ``beta_flow``: what gradient flow would reach)
    and the n → ∞ values of the Corollary (``alpha_pred``, ``beta_pred``,
    :func:`corollary4_alpha_beta`), and ``cos(B q1, B q2)`` before, from the
    Corollary's formula (:func:`~aligned_latents.theory.closed_forms.cor1_cosines`), after
    training, and from Theorem 1 on the sample (``cos_sample_flow``).

    ``X`` is ``(2n, 2)`` (rows are samples), ``normalizer`` the paper's ``n`` (points
    per Gaussian). Returns a DataFrame, one row per (init, k).
    """
    import pandas as pd

    X = as_finite_array(X, "X", ndim=2)
    U, s, _ = data_svd(X)
    rows = []
    for shift, label in [(0.0, "power"), (1.0, "plus identity")]:
        for k in degrees:
            k = check_degree(k)
            B0 = polynomial_initialization(X, k, normalizer=normalizer, shift=shift)
            b0, _ = singular_values_in_basis(B0, U)
            lr = stable_step(s[0], np.zeros(2), b0, step_fraction)
            B = train_linear_gd(X, np.zeros((2, 2)), B0, lr, tol=tol)["B"]
            _, b_flow = theorem1_final(np.zeros(2), b0)       # Theorem 1 on this sample
            B_flow = (U * b_flow) @ U.T
            al, be = corollary4_alpha_beta(c, k, shift)
            ev = np.linalg.eigvalsh(B)[::-1]
            rows.append({"init": label, "k": k, "alpha_pred": al, "beta_pred": be,
                         "alpha_flow": b_flow[0], "beta_flow": b_flow[1],
                         "alpha_trained": ev[0], "beta_trained": ev[1],
                         "cos_before": cosine(q1, q2),
                         "cos_pred": cor1_cosines(c, al, be, strict=False)[1],
                         "cos_trained": cosine(B @ q1, B @ q2),
                         "cos_sample_flow": cosine(B_flow @ q1, B_flow @ q2)})
    return pd.DataFrame(rows)
