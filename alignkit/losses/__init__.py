"""Losses that align modalities' representations."""

from ._contrastive import multimodal_info_nce, symmetric_info_nce

__all__ = ["multimodal_info_nce", "symmetric_info_nce"]
