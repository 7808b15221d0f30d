"""``python -m ganzoo`` (and ``torchrun -m ganzoo run RECIPE``)."""

from ganzoo.cli import main

main(prog_name="ganzoo")
