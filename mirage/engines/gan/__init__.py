"""``gan``: a CTGAN-class conditional GAN (arXiv 1907.00503) on the shared encoding.

Rows become vectors (:mod:`mirage.engines._neural`): discrete sub-columns one-hot, continuous ones a
scalar and a mode after mode-specific normalisation (:mod:`mirage.encoding.modes`).  A residual
generator maps noise and a conditional vector to a row; a PacGAN critic scores packs of rows under a
Wasserstein loss with gradient penalty, one critic step per ``critic_every`` generator steps (default
2).  Training-by-sampling picks conditions by the log of each category's frequency, so rare categories
are learned; the generator is penalised when it ignores its condition, and when its marginals (each
code's frequency, each number's distribution) drift from the data's.  Training stops when a
gradient-boosted classifier stops getting worse at telling generated rows from held-out real ones (a
validation detection score), or at the time budget; the generator of the best score is kept.  The
networks' layers are 256 units wide from 5,000 training rows, 128 from 1,000 and 64 below, where wider
ones gave back the rows' chance detail (diabetes: DCR share 0.558 -> 0.528 over 20 split seeds).

The package: ``_network`` (the generator and critic), ``_training`` (conditions, the loop and its
progress events) and ``_engine`` (the engine).  PyTorch is imported only when a model is fitted,
sampled or loaded.
"""

from mirage.engines.gan._engine import GanSynthesizer

__all__ = ["GanSynthesizer"]
