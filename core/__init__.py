"""ShopBot's shared runtime core: settings, logging, devices, and the encoder classifier servers load.

The bottom layer (docs/decisions/008-layers.md): every other package may import it; it imports none
of them and no Rasa.
"""
