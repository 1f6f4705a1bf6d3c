"""``vae``: a TVAE-class variational autoencoder (arXiv 1907.00503) on the shared encoding.

Rows become vectors as for ``gan`` (:mod:`mirage.engines._neural`: one-hot codes, mode-specific
normalisation of numbers).  An encoder maps a row to a Gaussian over a latent space, a decoder maps a
latent point back to the row's logits plus a learned noise scale per scalar; the loss is the
reconstruction (cross-entropy of the codes, a Gaussian likelihood of the scalars) plus the latent's
Kullback-Leibler divergence.  Training stops when the loss on held-out rows stops improving (or at the
time budget) and keeps the best weights.  Sampling decodes standard normal latents, draws each code
from its softmax and adds the learned noise to each scalar.

The package: ``_training`` (the network and the loop) and ``_engine`` (the engine).  PyTorch is
imported only when a model is fitted, sampled or loaded.
"""

from mirage.engines.vae._engine import VaeSynthesizer

__all__ = ["VaeSynthesizer"]
