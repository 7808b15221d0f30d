"""InfoGAN (Chen et al. 2016) as plugins: a training step whose Q head shares D's trunk,
and the loss terms that make Q recover the codes.

* step ``infogan``: the adversarial step plus Q's head (``q_head.py``, ``step.py``);
* term ``mutual_information``: λ·(−log Q(c|G(z, c))) per regularised code, the paper's
  lower bound of I(c; G(z, c)) (``mutual_information.py``);
* term ``real_data_information`` (beyond the paper): Q's categories of *real* images must be
  confident, balanced and unchanged by slant/stretch/shift (RIM / IIC) (``real_data.py``);
* term ``invariant_information`` (beyond the paper): the code's MI term also on an affine
  copy of each generated image (``invariance.py``);
* term ``contrastive``: InfoGAN-CR's contrastive regulariser, a head on D's trunk that names
  the code a pair of generated images shares (Lin et al. 2020) (``contrastive.py``).

A recipe assembles them: see ``recipes/infogan_dcgan.toml``.
"""

from ganzoo import StepSpec, TermSpec, hookimpl
from ganzoo_plugins.infogan.configs import (
    ContrastiveConfig,
    InfoGANConfig,
    InvariantInformationConfig,
    MutualInformationTermConfig,
    RealDataInformationConfig,
    check_codes,
    check_contrastive,
    check_infogan,
    check_real_data,
)

_HERE = __name__


@hookimpl
def ganzoo_steps():
    return [
        StepSpec(
            name="infogan",
            summary="InfoGAN: the adversarial step plus a Q head on D's trunk that infers the "
            "regularised codes from an image (Chen et al. 2016)",
            config=InfoGANConfig,
            factory=f"{_HERE}.step:InfoGANStep",
            optimizer_roles=("generator", "discriminator"),
            provides=("adversarial", "posterior"),
            check=check_infogan,
        ),
    ]


@hookimpl
def ganzoo_terms():
    return [
        TermSpec(
            name="mutual_information",
            summary="InfoGAN's variational lower bound of I(c; G(z, c)): lambda * -log Q(c|x) "
            "per regularised code, for G and Q",
            config=MutualInformationTermConfig,
            factory=f"{_HERE}.mutual_information:MutualInformationTerm",
            needs=("posterior",),
        ),
        TermSpec(
            name="real_data_information",
            summary="Q's categories of real images must be confident, balanced and (affine) "
            "unchanged by slant/stretch/shift: RIM / IIC, beyond the paper",
            config=RealDataInformationConfig,
            factory=f"{_HERE}.real_data:RealDataInformation",
            needs=("posterior",),
            check=check_real_data,
        ),
        TermSpec(
            name="invariant_information",
            summary="a code's MI term also on an affine copy of each generated image, so G "
            "cannot carry it by slant, width or position; beyond the paper",
            config=InvariantInformationConfig,
            factory=f"{_HERE}.invariance:InvariantInformation",
            needs=("posterior",),
            check=check_codes,
        ),
        TermSpec(
            name="contrastive",
            summary="InfoGAN-CR: a head on D's trunk names the code a pair of generated images "
            "shares; trained by G and D, G's weight raised on the paper's schedule",
            config=ContrastiveConfig,
            factory=f"{_HERE}.contrastive:Contrastive",
            needs=("posterior",),
            check=check_contrastive,
        ),
    ]
