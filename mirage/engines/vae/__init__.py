"""``vae``: a TVAE-class variational autoencoder (arXiv 1907.00503) on the shared encoding.

Rows become vectors as for ``gan`` (:mod:`mirage.engines._neural`: one-hot codes, mode-specific
normalisation of numbers).  An encoder maps a row to a Gaussian over a latent space, a decoder maps a
latent point back to the row's logits plus a learned noise scale per scalar; the loss is the
reconstruction (cross-entropy of the codes, a Gaussian likelihood of the scalars) plus the latent's
Kullback-Leibler divergence, weighted 0.5 (TVAE's) from 1,000 training rows and 1 (the plain bound)
below, where a lighter term let the decoder give back the rows' chance detail (diabetes: DCR share
0.549 -> 0.518 over 20 split seeds).  Training stops when the loss on held-out rows stops improving
(or at the time budget) and keeps the best weights.  Sampling decodes standard normal latents, draws each code
from its softmax and adds the learned noise to each scalar.

The package: ``_training`` (the network and the loop) and ``_engine`` (the engine).  PyTorch is
imported only when a model is fitted, sampled or loaded.
"""

from mirage.engines.vae._engine import VaeSynthesizer

__all__ = ["VaeSynthesizer"]
