"""aligned_latents: the computations behind the reproducible edition of
*A Mechanism for Producing Aligned Latent Spaces with Autoencoders*
(Jain, Radhakrishnan, Uhler).

Modules are imported on demand (``from aligned_latents import closed_forms``) so that
importing the package stays cheap; torch is only loaded by the modules that train.
"""

__version__ = "0.1.0"
