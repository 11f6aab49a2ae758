"""Choosing λ: multi-seed, paired sweeps of the contrastive weight."""

from ._lambda_sweep import lambda_sweep

__all__ = ["lambda_sweep"]
