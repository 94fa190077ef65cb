"""Pick the torch device: CUDA when present, the CPU otherwise."""
from __future__ import annotations


def torch_device(prefer: str | None = None):
    """Return ``torch.device('cuda')`` when a GPU is available, else ``torch.device('cpu')``.

    ``prefer`` ('cpu' or 'cuda') overrides the choice; asking for 'cuda' without a GPU is an error.
    """
    import torch

    if prefer not in (None, "cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or None, got {prefer!r}")
    if prefer == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but torch sees no CUDA device")
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_label(dev) -> str:
    """A device as run.json and the pages name it: ``cpu``, or ``cuda:0 (NVIDIA H200)`` with
    the GPU's name."""
    import torch

    dev = torch.device(dev)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(dev)
