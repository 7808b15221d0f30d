"""BiGAN / ALI for ganzoo: the step and its term, registered through the ``ganzoo`` entry
point of this package. Configs are imported here; the networks only when a recipe uses them.

* step ``bigan`` (``step.py``): networks "generator", "encoder" and a joint "discriminator"
  of (image, latent) pairs; it provides ``encoder`` to loss terms and infers regularised
  codes for evaluation (``posterior``);
* term ``latent_reconstruction`` (``latent_reconstruction.py``): ‖E(G(z)) − z‖² in G's phase.
"""

from ganzoo import StepSpec, TermSpec, hookimpl
from ganzoo_bigan.configs import BiGANConfig, LatentReconstructionConfig, check_bigan


@hookimpl
def ganzoo_steps():
    return [
        StepSpec(
            name="bigan",
            summary="BiGAN/ALI: G maps z to x, an encoder maps x to z, and D tells (x, E(x)) "
            "from (G(z), z) (Donahue et al. 2017; Dumoulin et al. 2017)",
            config=BiGANConfig,
            factory="ganzoo_bigan.step:BiGANStep",
            optimizer_roles=("generator", "discriminator"),  # generator: G and the encoder
            provides=("encoder",),  # its phases: BiGANPhase, with encoder(images) -> [B, D]
            check=check_bigan,
        )
    ]


@hookimpl
def ganzoo_terms():
    return [
        TermSpec(
            name="latent_reconstruction",
            summary="weight * sum of lambda_c * ||E(G(z))_c - z_c||^2 in G's phase: the encoder "
            "inverts the generator directly (a latent cycle, as in ALICE)",
            config=LatentReconstructionConfig,
            factory="ganzoo_bigan.latent_reconstruction:LatentReconstruction",
            needs=("encoder",),
        )
    ]
