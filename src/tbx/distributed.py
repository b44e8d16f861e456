"""Which process of a distributed job this is, for ``SummaryWriter(distributed=...)``.

No framework is imported: torch.distributed is asked only when the program has imported it and
initialised a process group; otherwise the launchers' environment variables are read.
"""

from __future__ import annotations

import os
import sys

__all__ = ["get_rank", "RANK_ENV_VARS"]

#: Environment variables that launchers set to the global rank, in the order they are tried:
#: torchrun / torch.distributed.launch, Slurm, Open MPI, MPICH / Intel MPI.
RANK_ENV_VARS = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")


def get_rank() -> int | None:
    """The global rank of this process (0-based), or ``None`` outside a distributed job.

    Taken from ``torch.distributed.get_rank()`` when torch.distributed is imported and its
    process group initialised, else from the first of :data:`RANK_ENV_VARS` that is set.

    Raises:
        ValueError: a rank variable is set to something that is not a non-negative integer.
    """
    dist = sys.modules.get("torch.distributed")
    if dist is not None:
        try:
            if dist.is_available() and dist.is_initialized():
                return int(dist.get_rank())
        except (RuntimeError, AttributeError):
            pass
    for name in RANK_ENV_VARS:
        value = os.environ.get(name)
        if value is not None and value.strip() != "":
            try:
                rank = int(value)
            except ValueError:
                raise ValueError(f"environment variable {name}={value!r} is not a rank") from None
            if rank < 0:
                raise ValueError(f"environment variable {name}={value!r} is not a rank")
            return rank
    return None
