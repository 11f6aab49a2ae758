"""The multimodal data contract and the information measures of discrete tables.

:func:`resolve_modalities`, :func:`fit_modality_layout`, :func:`split_modalities`
and :func:`concat_modalities` read and write the layout of ``X`` (every
modality's columns side by side); :func:`entropy`, :func:`mutual_information`
and :func:`conditional_mutual_information` measure a joint probability table,
as the PID routes do.
"""

from ._information import conditional_mutual_information, entropy, mutual_information
from ._modalities import (
    concat_modalities,
    fit_modality_layout,
    resolve_modalities,
    split_modalities,
)

__all__ = [
    "entropy",
    "mutual_information",
    "conditional_mutual_information",
    "concat_modalities",
    "fit_modality_layout",
    "resolve_modalities",
    "split_modalities",
]
